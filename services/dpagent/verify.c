/* The "signed and trusted" check of the source, with OpenSSL libcrypto:
 * Ed25519 over the whole MANIFEST (EVP_DigestVerify, no pre-hash, the same
 * as `openssl pkeyutl -sign -rawin`), then SHA-256 of each file against its
 * MANIFEST line. Nothing is written by this module; install_files writes
 * only after the whole set has passed, so a tampered set changes nothing. */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <dpf/manifest.h>
#include <dpf/util.h>
#include "fsutil.h"

struct dpa_verify {
    EVP_PKEY *key;
};

static void openssl_reason(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

dpf_status dpa_verify_create_pem(const char *pem, size_t len, dpa_verify **out, char *err,
                                 size_t errlen)
{
    *out = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return DPF_ERR_NOMEM;
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) {
        openssl_reason(err, errlen, "not a PEM public key");
        return DPF_ERR_INVALID;
    }
    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        snprintf(err, errlen, "the trusted key is not an Ed25519 key");
        return DPF_ERR_INVALID;
    }
    dpa_verify *v = calloc(1, sizeof *v);
    if (v == NULL) {
        EVP_PKEY_free(key);
        return DPF_ERR_NOMEM;
    }
    v->key = key;
    *out = v;
    return DPF_OK;
}

dpf_status dpa_verify_create(const char *pem_path, dpa_verify **out, char *err, size_t errlen)
{
    char *pem = NULL;
    size_t len = 0;
    *out = NULL;
    dpf_status rc = dpf_read_file(pem_path, &pem, &len);
    if (rc != DPF_OK) {
        snprintf(err, errlen, "cannot read '%s': %s", pem_path, dpf_status_text(rc));
        return rc;
    }
    rc = dpa_verify_create_pem(pem, len, out, err, errlen);
    free(pem);
    return rc;
}

void dpa_verify_destroy(dpa_verify *v)
{
    if (v == NULL)
        return;
    EVP_PKEY_free(v->key);
    free(v);
}

dpf_status dpa_verify_signature(const dpa_verify *v, const void *data, size_t len,
                                const void *sig, size_t siglen)
{
    if (v == NULL || sig == NULL || siglen == 0)
        return DPF_ERR_VERIFY;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return DPF_ERR_NOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->key) == 1 &&
             EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok ? DPF_OK : DPF_ERR_VERIFY;
}

int dpa_verify_is_meta(const char *name)
{
    return strcmp(name, DPF_MANIFEST_FILE) == 0 || strcmp(name, DPF_MANIFEST_SIG_FILE) == 0 ||
           strcmp(name, "signing.pub") == 0;
}

dpf_status dpa_verify_files(const dpa_verify *v, const void *manifest, size_t mlen,
                            const void *sig, size_t siglen, const dpa_file *files,
                            size_t nfiles, char *err, size_t errlen)
{
    if (v == NULL) {
        snprintf(err, errlen, "no trusted key is loaded: cannot verify the component files");
        return DPF_ERR_VERIFY;
    }
    if (manifest == NULL || mlen == 0 || mlen > DPF_MANIFEST_MAX_BYTES) {
        snprintf(err, errlen, "MANIFEST is missing or larger than %d bytes",
                 DPF_MANIFEST_MAX_BYTES);
        return DPF_ERR_INVALID;
    }
    if (dpa_verify_signature(v, manifest, mlen, sig, siglen) != DPF_OK) {
        snprintf(err, errlen, "MANIFEST failed verification: the signature does not match the "
                              "trusted key");
        return DPF_ERR_VERIFY;
    }

    dpf_manifest *m = NULL;
    dpf_status rc = dpf_manifest_parse(manifest, mlen, &m, err, errlen);
    if (rc != DPF_OK)
        return rc;
    size_t n = dpf_manifest_count(m);
    unsigned char *seen = calloc(n, 1);
    if (seen == NULL) {
        dpf_manifest_destroy(m);
        return DPF_ERR_NOMEM;
    }

    for (size_t i = 0; rc == DPF_OK && i < nfiles; i++) {
        const char *name = files[i].name ? files[i].name : "";
        char why[128];
        size_t j = 0;
        if (dpa_verify_is_meta(name))
            continue;
        if (!dpa_fs_name_safe(name, why, sizeof why)) {
            snprintf(err, errlen, "File '%.100s' failed verification: %s", name, why);
            rc = DPF_ERR_VERIFY;
        } else if (!dpf_manifest_find(m, name, &j)) {
            snprintf(err, errlen, "File '%s' failed verification: not listed in the signed "
                                  "MANIFEST", name);
            rc = DPF_ERR_VERIFY;
        } else if (seen[j]) {
            snprintf(err, errlen, "File '%s' was sent twice", name);
            rc = DPF_ERR_VERIFY;
        } else if (!dpf_manifest_matches(m, j, files[i].data, files[i].len)) {
            snprintf(err, errlen, "File '%s' failed verification: SHA-256 mismatch", name);
            rc = DPF_ERR_VERIFY;
        } else {
            seen[j] = 1;
        }
    }
    for (size_t j = 0; rc == DPF_OK && j < n; j++) {
        if (!seen[j]) {
            snprintf(err, errlen, "File '%s' is listed in the signed MANIFEST but was not sent",
                     dpf_manifest_name(m, j));
            rc = DPF_ERR_VERIFY;
        }
    }
    free(seen);
    dpf_manifest_destroy(m);
    return rc;
}
