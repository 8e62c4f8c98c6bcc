/* The DP certificate HMAN records with spUpdateDPCert (update_dp_cert). A
 * self-signed DP certificate is identified by its thumbprint; dpfleet has no
 * certificate file for a DP at this point, so the thumbprint is derived from
 * the DP's identity (server name and IdentityGUID). It is stable for a DP
 * and changes when the DP is created anew with another GUID, which is what
 * a thumbprint of a freshly issued self-signed certificate would do. */
#include "hman.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

dpf_status hman_cert_thumbprint(const char *server, const char *guid, char out[41])
{
    out[0] = '\0';
    if (server == NULL || guid == NULL)
        return DPF_ERR_INVALID;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return DPF_ERR_NOMEM;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, server, strlen(server)) == 1 &&
             EVP_DigestUpdate(ctx, "|", 1) == 1 &&
             EVP_DigestUpdate(ctx, guid, strlen(guid)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen != 20)
        return DPF_ERR_IO;
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
    return DPF_OK;
}
