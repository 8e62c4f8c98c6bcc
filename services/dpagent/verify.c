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
#include <dpf/util.h>
#include "fsutil.h"

#define MANIFEST_MAX_ENTRIES 256
#define MANIFEST_MAX_BYTES (64 * 1024)

struct dpa_verify {
    EVP_PKEY *key;
};

typedef struct manifest_entry {
    char hash[65];
    char name[256];
    int seen;
} manifest_entry;

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

void dpa_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        mdlen = 0;
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[mdlen ? 64 : 0] = '\0';
}

int dpa_verify_is_meta(const char *name)
{
    return strcmp(name, "MANIFEST") == 0 || strcmp(name, "MANIFEST.sig") == 0 ||
           strcmp(name, "signing.pub") == 0;
}

static int is_hex64(const char *p)
{
    for (int i = 0; i < 64; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* "<64 hex>  <name>\n" per line, as sha256sum writes it. */
static dpf_status parse_manifest(const char *text, size_t len, manifest_entry *ents, size_t *n,
                                 char *err, size_t errlen)
{
    size_t count = 0, lineno = 0;
    const char *p = text, *end = text + len;
    *n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t ll = (size_t)(eol - p);
        lineno++;
        if (ll == 0) {
            p = eol + 1;
            continue;
        }
        if (ll < 67 || !is_hex64(p) || p[64] != ' ' || p[65] != ' ' || ll - 66 > 255) {
            snprintf(err, errlen, "MANIFEST line %zu is not '<sha256>  <name>'", lineno);
            return DPF_ERR_INVALID;
        }
        if (count == MANIFEST_MAX_ENTRIES) {
            snprintf(err, errlen, "MANIFEST lists more than %d files", MANIFEST_MAX_ENTRIES);
            return DPF_ERR_INVALID;
        }
        manifest_entry *e = &ents[count];
        for (int i = 0; i < 64; i++)
            e->hash[i] = (char)(p[i] | 0x20); /* lower-case hex */
        e->hash[64] = '\0';
        memcpy(e->name, p + 66, ll - 66);
        e->name[ll - 66] = '\0';
        e->seen = 0;
        char why[128];
        if (memchr(p + 66, '\0', ll - 66) != NULL || !dpa_fs_name_safe(e->name, why, sizeof why)) {
            snprintf(err, errlen, "MANIFEST line %zu: unsafe file name (%s)", lineno,
                     memchr(p + 66, '\0', ll - 66) ? "contains NUL" : why);
            return DPF_ERR_INVALID;
        }
        for (size_t j = 0; j < count; j++) {
            if (strcmp(ents[j].name, e->name) == 0) {
                snprintf(err, errlen, "MANIFEST lists '%s' twice", e->name);
                return DPF_ERR_INVALID;
            }
        }
        count++;
        p = eol + 1;
    }
    if (count == 0) {
        snprintf(err, errlen, "MANIFEST lists no files");
        return DPF_ERR_INVALID;
    }
    *n = count;
    return DPF_OK;
}

dpf_status dpa_verify_files(const dpa_verify *v, const void *manifest, size_t mlen,
                            const void *sig, size_t siglen, const dpa_file *files,
                            size_t nfiles, char *err, size_t errlen)
{
    if (v == NULL) {
        snprintf(err, errlen, "no trusted key is loaded: cannot verify the component files");
        return DPF_ERR_VERIFY;
    }
    if (manifest == NULL || mlen == 0 || mlen > MANIFEST_MAX_BYTES) {
        snprintf(err, errlen, "MANIFEST is missing or larger than %d bytes", MANIFEST_MAX_BYTES);
        return DPF_ERR_INVALID;
    }
    if (dpa_verify_signature(v, manifest, mlen, sig, siglen) != DPF_OK) {
        snprintf(err, errlen, "MANIFEST failed verification: the signature does not match the "
                              "trusted key");
        return DPF_ERR_VERIFY;
    }

    manifest_entry *ents = calloc(MANIFEST_MAX_ENTRIES, sizeof *ents);
    if (ents == NULL)
        return DPF_ERR_NOMEM;
    size_t n = 0;
    dpf_status rc = parse_manifest(manifest, mlen, ents, &n, err, errlen);

    for (size_t i = 0; rc == DPF_OK && i < nfiles; i++) {
        const char *name = files[i].name ? files[i].name : "";
        char why[128];
        if (dpa_verify_is_meta(name))
            continue;
        if (!dpa_fs_name_safe(name, why, sizeof why)) {
            snprintf(err, errlen, "File '%.100s' failed verification: %s", name, why);
            rc = DPF_ERR_VERIFY;
            break;
        }
        manifest_entry *e = NULL;
        for (size_t j = 0; j < n && e == NULL; j++)
            e = strcmp(ents[j].name, name) == 0 ? &ents[j] : NULL;
        if (e == NULL) {
            snprintf(err, errlen, "File '%s' failed verification: not listed in the signed "
                                  "MANIFEST", name);
            rc = DPF_ERR_VERIFY;
        } else if (e->seen) {
            snprintf(err, errlen, "File '%s' was sent twice", name);
            rc = DPF_ERR_VERIFY;
        } else {
            char hex[65];
            dpa_sha256_hex(files[i].data, files[i].len, hex);
            if (strcmp(hex, e->hash) != 0) {
                snprintf(err, errlen, "File '%s' failed verification: SHA-256 mismatch", name);
                rc = DPF_ERR_VERIFY;
            }
            e->seen = 1;
        }
    }
    for (size_t j = 0; rc == DPF_OK && j < n; j++) {
        if (!ents[j].seen) {
            snprintf(err, errlen, "File '%s' is listed in the signed MANIFEST but was not sent",
                     ents[j].name);
            rc = DPF_ERR_VERIFY;
        }
    }
    free(ents);
    return rc;
}
