/* Signing and checking of agent step requests (dpf/stepsig.h), with
 * OpenSSL's EVP Ed25519 the way dpagent checks the component MANIFEST
 * (services/dpagent/verify.c): one-shot EVP_DigestSign/EVP_DigestVerify, no
 * pre-hash by OpenSSL. What is signed is a fixed context string and the
 * SHA-256 of the request bytes, so a 512 KiB content_put chunk is hashed in
 * place instead of copied. The agent's replay memory is a small array per
 * host, grown on demand up to a fixed bound. */
#include "stepsig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util.h"

#define CONTEXT "dpfleet-step-v1"
#define SIG_LEN 64
#define SIG_FIELD 15 /* AgentRequest.step_signature */
#define TAIL_LEN (2 + SIG_LEN)
#define REPLAY_MAX 8192

struct dpf_stepsig_signer {
    EVP_PKEY *key;
};

struct dpf_stepsig_verifier {
    EVP_PKEY *key;
    int64_t window_ms;
};

typedef struct seen {
    uint8_t nonce[DPF_STEPSIG_NONCE_LEN];
    int64_t at_ms;
} seen;

struct dpf_stepsig_replay {
    seen *items;
    size_t n, cap;
    int64_t floor_ms; /* requests signed at or before this were forgotten */
};

static void ossl_reason(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    dpf_fmt(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

int64_t dpf_stepsig_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bytes signed: CONTEXT || SHA-256(body). */
static void to_sign(const void *body, size_t len, uint8_t out[sizeof CONTEXT - 1 + 32])
{
    memcpy(out, CONTEXT, sizeof CONTEXT - 1);
    SHA256(body, len, out + sizeof CONTEXT - 1);
}

static EVP_PKEY *read_key(const char *path, int private, char *err, size_t errlen)
{
    char *pem = NULL;
    size_t len = 0;
    dpf_status rc = dpf_read_file(path, &pem, &len);
    if (rc != DPF_OK) {
        dpf_fmt(err, errlen, "cannot read '%s': %s", path, dpf_status_text(rc));
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = NULL;
    if (bio != NULL)
        key = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                      : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    free(pem);
    if (key == NULL) {
        char what[300];
        dpf_fmt(what, sizeof what, "'%s' is not a PEM %s key", path,
                private ? "private" : "public");
        ossl_reason(err, errlen, what);
        return NULL;
    }
    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        dpf_fmt(err, errlen, "'%s' is not an Ed25519 key", path);
        return NULL;
    }
    return key;
}

dpf_status dpf_stepsig_signer_load(const char *path, dpf_stepsig_signer **out, char *err,
                                   size_t errlen)
{
    *out = NULL;
    struct stat sb;
    if (path == NULL || path[0] == '\0') {
        dpf_fmt(err, errlen, "no step signing key is configured");
        return DPF_ERR_INVALID;
    }
    if (stat(path, &sb) != 0) {
        dpf_fmt(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return DPF_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
        dpf_fmt(err, errlen, "'%s' is mode %03o: a private key must be a file of mode 0600 "
                "(chmod 600 '%s')", path, (unsigned)(sb.st_mode & 0777), path);
        return DPF_ERR_INVALID;
    }
    EVP_PKEY *key = read_key(path, 1, err, errlen);
    if (key == NULL)
        return DPF_ERR_INVALID;
    dpf_stepsig_signer *s = calloc(1, sizeof *s);
    if (s == NULL) {
        EVP_PKEY_free(key);
        return DPF_ERR_NOMEM;
    }
    s->key = key;
    *out = s;
    return DPF_OK;
}

void dpf_stepsig_signer_free(dpf_stepsig_signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}

dpf_status dpf_stepsig_stamp(Dpf__AgentRequest *req, int64_t now_ms,
                             uint8_t nonce[DPF_STEPSIG_NONCE_LEN])
{
    if (RAND_bytes(nonce, DPF_STEPSIG_NONCE_LEN) != 1) {
        ERR_clear_error();
        return DPF_ERR_IO;
    }
    req->signed_at_ms = now_ms;
    req->nonce.data = nonce;
    req->nonce.len = DPF_STEPSIG_NONCE_LEN;
    req->step_signature.data = NULL;
    req->step_signature.len = 0;
    return DPF_OK;
}

dpf_status dpf_stepsig_seal(const dpf_stepsig_signer *s, uint8_t *buf, size_t len,
                            size_t *total)
{
    uint8_t msg[sizeof CONTEXT - 1 + 32];
    size_t siglen = SIG_LEN;
    if (s == NULL)
        return DPF_ERR_INVALID;
    to_sign(buf, len, msg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return DPF_ERR_NOMEM;
    int ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1 &&
             EVP_DigestSign(ctx, buf + len + 2, &siglen, msg, sizeof msg) == 1 &&
             siglen == SIG_LEN;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
        return DPF_ERR_VERIFY;
    buf[len] = (uint8_t)((SIG_FIELD << 3) | 2); /* field 15, length-delimited */
    buf[len + 1] = SIG_LEN;
    *total = len + TAIL_LEN;
    return DPF_OK;
}

dpf_status dpf_stepsig_pack(const dpf_stepsig_signer *s, Dpf__AgentRequest *req, uint8_t **out,
                            size_t *len)
{
    uint8_t nonce[DPF_STEPSIG_NONCE_LEN];
    *out = NULL;
    dpf_status rc = dpf_stepsig_stamp(req, dpf_stepsig_now_ms(), nonce);
    if (rc != DPF_OK)
        return rc;
    size_t n = dpf__agent_request__get_packed_size(req);
    uint8_t *buf = malloc(n + DPF_STEPSIG_TAIL_MAX);
    if (buf == NULL)
        return DPF_ERR_NOMEM;
    dpf__agent_request__pack(req, buf);
    req->nonce.data = NULL; /* nonce is ours: not left dangling in req */
    req->nonce.len = 0;
    rc = dpf_stepsig_seal(s, buf, n, len);
    if (rc != DPF_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return DPF_OK;
}

dpf_status dpf_stepsig_verifier_load(const char *path, int max_age_s,
                                     dpf_stepsig_verifier **out, char *err, size_t errlen)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        dpf_fmt(err, errlen, "no trusted step key is configured");
        return DPF_ERR_INVALID;
    }
    if (max_age_s < 1) {
        dpf_fmt(err, errlen, "the step window must be at least 1 s");
        return DPF_ERR_INVALID;
    }
    EVP_PKEY *key = read_key(path, 0, err, errlen);
    if (key == NULL)
        return DPF_ERR_INVALID;
    dpf_stepsig_verifier *v = calloc(1, sizeof *v);
    if (v == NULL) {
        EVP_PKEY_free(key);
        return DPF_ERR_NOMEM;
    }
    v->key = key;
    v->window_ms = (int64_t)max_age_s * 1000;
    *out = v;
    return DPF_OK;
}

void dpf_stepsig_verifier_free(dpf_stepsig_verifier *v)
{
    if (v == NULL)
        return;
    EVP_PKEY_free(v->key);
    free(v);
}

dpf_status dpf_stepsig_replay_create(dpf_stepsig_replay **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? DPF_OK : DPF_ERR_NOMEM;
}

void dpf_stepsig_replay_free(dpf_stepsig_replay *r)
{
    if (r == NULL)
        return;
    free(r->items);
    free(r);
}

/* Forgets what the window already refuses; 1 when nonce is remembered. */
static int replay_seen(dpf_stepsig_replay *r, const uint8_t *nonce, int64_t oldest_ok_ms)
{
    size_t o = 0;
    int found = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].at_ms < oldest_ok_ms)
            continue;
        found |= memcmp(r->items[i].nonce, nonce, DPF_STEPSIG_NONCE_LEN) == 0;
        r->items[o++] = r->items[i];
    }
    r->n = o;
    return found;
}

static dpf_status replay_add(dpf_stepsig_replay *r, const uint8_t *nonce, int64_t at_ms)
{
    if (r->n == r->cap && r->cap < REPLAY_MAX) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        seen *grown = realloc(r->items, cap * sizeof *grown);
        if (grown == NULL)
            return DPF_ERR_NOMEM;
        r->items = grown;
        r->cap = cap;
    }
    if (r->n == r->cap) { /* full within the window: forget the oldest */
        size_t old = 0;
        for (size_t i = 1; i < r->n; i++)
            old = r->items[i].at_ms < r->items[old].at_ms ? i : old;
        if (r->items[old].at_ms > r->floor_ms)
            r->floor_ms = r->items[old].at_ms;
        r->items[old] = r->items[--r->n];
    }
    memcpy(r->items[r->n].nonce, nonce, DPF_STEPSIG_NONCE_LEN);
    r->items[r->n].at_ms = at_ms;
    r->n++;
    return DPF_OK;
}

dpf_status dpf_stepsig_check(const dpf_stepsig_verifier *v, dpf_stepsig_replay *replay,
                             const void *data, size_t len, const Dpf__AgentRequest *req,
                             int64_t now_ms, char *why, size_t whylen)
{
    const uint8_t *d = data;
    if (req->step_signature.len == 0) {
        dpf_fmt(why, whylen, "the request is not signed");
        return DPF_ERR_VERIFY;
    }
    if (req->step_signature.len != SIG_LEN || len < TAIL_LEN ||
        d[len - TAIL_LEN] != (uint8_t)((SIG_FIELD << 3) | 2) || d[len - TAIL_LEN + 1] != SIG_LEN ||
        memcmp(d + len - SIG_LEN, req->step_signature.data, SIG_LEN) != 0) {
        dpf_fmt(why, whylen, "the request's signature is malformed or not its last field");
        return DPF_ERR_VERIFY;
    }
    uint8_t msg[sizeof CONTEXT - 1 + 32];
    to_sign(d, len - TAIL_LEN, msg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return DPF_ERR_NOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->key) == 1 &&
             EVP_DigestVerify(ctx, req->step_signature.data, SIG_LEN, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        dpf_fmt(why, whylen, "the signature does not match the trusted step key (signed with "
                "another key, or altered on the way)");
        return DPF_ERR_VERIFY;
    }
    if (req->nonce.len != DPF_STEPSIG_NONCE_LEN) {
        dpf_fmt(why, whylen, "the request has no %d-byte nonce", DPF_STEPSIG_NONCE_LEN);
        return DPF_ERR_VERIFY;
    }
    int64_t age = now_ms - req->signed_at_ms;
    if (age > v->window_ms) {
        dpf_fmt(why, whylen, "signed %lld s ago, older than the %lld s window",
                (long long)(age / 1000), (long long)(v->window_ms / 1000));
        return DPF_ERR_VERIFY;
    }
    if (-age > v->window_ms) {
        dpf_fmt(why, whylen, "signed %lld s in the future, beyond the %lld s window (check the "
                "clocks of distmgr and this host)", (long long)(-age / 1000),
                (long long)(v->window_ms / 1000));
        return DPF_ERR_VERIFY;
    }
    if (replay_seen(replay, req->nonce.data, now_ms - v->window_ms)) {
        dpf_fmt(why, whylen, "replayed: this request's nonce was already used");
        return DPF_ERR_VERIFY;
    }
    if (req->signed_at_ms <= replay->floor_ms) {
        dpf_fmt(why, whylen, "signed before the oldest request this host still remembers: "
                "possibly replayed");
        return DPF_ERR_VERIFY;
    }
    return replay_add(replay, req->nonce.data, req->signed_at_ms);
}

dpf_status dpf_stepsig_keygen(const char *priv_path, const char *pub_path, char *err,
                              size_t errlen)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_keygen(pctx, &key) != 1) {
        EVP_PKEY_CTX_free(pctx);
        ossl_reason(err, errlen, "cannot make an Ed25519 key");
        return DPF_ERR_IO;
    }
    EVP_PKEY_CTX_free(pctx);
    dpf_status rc = DPF_ERR_IO;
    int fd = open(priv_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        dpf_fmt(err, errlen, "cannot write '%s': %s", priv_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto done;
    }
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    ok &= fclose(f) == 0;
    FILE *p = ok ? fopen(pub_path, "w") : NULL;
    ok = p != NULL && PEM_write_PUBKEY(p, key) == 1;
    if (p != NULL)
        ok &= fclose(p) == 0;
    if (!ok)
        ossl_reason(err, errlen, "cannot write the key pair");
    else
        rc = DPF_OK;
done:
    EVP_PKEY_free(key);
    return rc;
}
