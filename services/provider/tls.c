/* HTTPS for the API. The provider is given a certificate and a private key
 * as PEM files (DPFLEET_TLS_CERT / DPFLEET_TLS_KEY); this module reads them
 * itself, so an unreadable file, a file that is not PEM, an encrypted key or
 * a key that does not belong to the certificate is refused before the
 * server starts, with a log line naming the file (libmicrohttpd would only
 * say that its TLS set-up failed). OpenSSL parses the files for these
 * checks; libmicrohttpd (GnuTLS) then serves with the same PEM texts.
 * TLS 1.2 and 1.3 only. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <dpf/log.h>

#define PEM_MAX (1024 * 1024) /* a certificate chain is a few KiB */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct prov_tls {
    char *cert_pem; /* owned */
    char *key_pem;  /* owned, wiped on free */
    size_t key_len;
};

static int given(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Reads path (a regular file, at most PEM_MAX bytes) into *out (malloc'd,
 * NUL-terminated). For the key file, *world_readable says whether every
 * user may read it. Logs what is wrong and returns 0 on failure. */
static int read_pem(const char *path, const char *what, char **out, size_t *len,
                    int *world_readable)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        DPF_ERROR("cannot read the TLS %s file %s: %s", what, path, strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        DPF_ERROR("the TLS %s file %s is not a regular file", what, path);
        close(fd);
        return 0;
    }
    if (st.st_size <= 0 || st.st_size > PEM_MAX) {
        DPF_ERROR("the TLS %s file %s is %s (%lld bytes): not a PEM %s", what, path,
                  st.st_size <= 0 ? "empty" : "too large", (long long)st.st_size, what);
        close(fd);
        return 0;
    }
    if (world_readable != NULL)
        *world_readable = (st.st_mode & S_IROTH) != 0;
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (buf == NULL) {
        close(fd);
        DPF_ERROR("out of memory reading %s", path);
        return 0;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            DPF_ERROR("cannot read the TLS %s file %s: %s", what, path,
                      r < 0 ? strerror(errno) : "the file became shorter while read");
            OPENSSL_cleanse(buf, n);
            free(buf);
            close(fd);
            return 0;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 1;
}

/* OpenSSL's reason for the last failure, "" if it gave none. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "no PEM block found";
}

/* A password callback that never asks (no terminal prompt from a daemon):
 * it notes that the key is encrypted and fails the read. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(int *)u = 1;
    return -1;
}

static X509 *parse_cert(const char *path, const char *pem, size_t len)
{
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (x == NULL)
        DPF_ERROR("the TLS certificate file %s is not a PEM certificate (want a "
                  "'-----BEGIN CERTIFICATE-----' block): %s", path, ssl_reason());
    ERR_clear_error();
    return x;
}

static EVP_PKEY *parse_key(const char *path, const char *pem, size_t len)
{
    int encrypted = 0;
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, &encrypted) : NULL;
    BIO_free(bio);
    if (k == NULL && encrypted)
        DPF_ERROR("the TLS key file %s holds an encrypted private key: the provider needs it "
                  "unencrypted (protect the file with mode 0600 instead)", path);
    else if (k == NULL)
        DPF_ERROR("the TLS key file %s is not a PEM private key (want a '-----BEGIN PRIVATE "
                  "KEY-----' block): %s", path, ssl_reason());
    ERR_clear_error();
    return k;
}

/* One INFO line naming the certificate; a WARN if it is not valid now. */
static void describe_cert(const char *path, X509 *x)
{
    char subject[256] = "", until[64] = "";
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
    BIO *b = BIO_new(BIO_s_mem());
    if (b != NULL) {
        ASN1_TIME_print(b, X509_get0_notAfter(x));
        int n = BIO_read(b, until, (int)sizeof until - 1);
        until[n > 0 ? n : 0] = '\0';
        BIO_free(b);
    }
    DPF_INFO("TLS certificate %s: subject %s, valid until %s", path, subject, until);
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        DPF_WARN("the TLS certificate in %s expired on %s: clients will refuse it", path, until);
    else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
        DPF_WARN("the TLS certificate in %s is not valid yet: clients will refuse it", path);
}

dpf_status prov_tls_load(const char *cert_path, const char *key_path, prov_tls **out)
{
    *out = NULL;
    if (!given(cert_path) && !given(key_path))
        return DPF_OK;
    if (!given(cert_path) || !given(key_path)) {
        DPF_ERROR("HTTPS needs both a certificate and its key: %s is set but %s is not",
                  given(cert_path) ? "DPFLEET_TLS_CERT (--tls-cert)" : "DPFLEET_TLS_KEY (--tls-key)",
                  given(cert_path) ? "DPFLEET_TLS_KEY (--tls-key)" : "DPFLEET_TLS_CERT (--tls-cert)");
        return DPF_ERR_INVALID;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        DPF_ERROR("this libmicrohttpd was built without TLS support: cannot serve HTTPS");
        return DPF_ERR_INVALID;
    }
    prov_tls *t = calloc(1, sizeof *t);
    if (t == NULL)
        return DPF_ERR_NOMEM;
    size_t cert_len = 0;
    int world = 0;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    dpf_status st = DPF_ERR_INVALID;
    if (!read_pem(cert_path, "certificate", &t->cert_pem, &cert_len, NULL) ||
        !read_pem(key_path, "key", &t->key_pem, &t->key_len, &world))
        goto done;
    if ((x = parse_cert(cert_path, t->cert_pem, cert_len)) == NULL ||
        (k = parse_key(key_path, t->key_pem, t->key_len)) == NULL)
        goto done;
    if (X509_check_private_key(x, k) != 1) {
        DPF_ERROR("the private key in %s does not belong to the certificate in %s", key_path,
                  cert_path);
        goto done;
    }
    if (world)
        DPF_WARN("the TLS key file %s is readable by every user: chmod 600 it (and keep it "
                 "owned by the provider's user)", key_path);
    describe_cert(cert_path, x);
    st = DPF_OK;
done:
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    if (st != DPF_OK) {
        prov_tls_free(t);
        return st;
    }
    *out = t;
    return DPF_OK;
}

unsigned prov_tls_mhd_flags(const prov_tls *tls)
{
    return tls ? (unsigned)MHD_USE_TLS : 0u;
}

void prov_tls_mhd_options(const prov_tls *tls, struct MHD_OptionItem *opts)
{
    int i = 0;
    if (tls != NULL) {
        opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert_pem};
        opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key_pem};
        opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)(uintptr_t)TLS_PRIORITIES};
    }
    opts[i] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

const char *prov_tls_scheme(const prov_tls *tls)
{
    return tls ? "https" : "http";
}

void prov_tls_free(prov_tls *tls)
{
    if (tls == NULL)
        return;
    if (tls->key_pem != NULL)
        OPENSSL_cleanse(tls->key_pem, tls->key_len);
    free(tls->key_pem);
    free(tls->cert_pem);
    free(tls);
}
