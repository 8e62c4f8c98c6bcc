/* NATS JWT claims and credentials files (issue 9, NATS identities).
 *
 * nats-server's operator mode reads an operator JWT from its configuration,
 * account JWTs from its resolver, and a user JWT from each client's
 * credentials file, each signed by the key above it. These builders write the
 * nats-io/jwt v2 claim layout ("nats": {..., "type", "version": 2}) with
 * jansson, so the control plane can mint a credential for a DP host and
 * revoke it again by re-signing its account's claims with a revocation. */
#include "jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static const char HEADER[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static json_t *subjects(const char *const *list)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && list != NULL && list[i] != NULL; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

/* {"allow": [...], "deny": [...]}, each key only when given */
static json_t *permission(const char *const *allow, const char *const *deny)
{
    json_t *p = json_object();
    if (p != NULL && allow != NULL)
        json_object_set_new(p, "allow", subjects(allow));
    if (p != NULL && deny != NULL)
        json_object_set_new(p, "deny", subjects(deny));
    return p;
}

static dpf_status finish(json_t *claims, const char *sub, const char *name, json_t *nats,
                         const char *type, json_t **out)
{
    json_object_set_new(nats, "type", json_string(type));
    json_object_set_new(nats, "version", json_integer(2));
    json_object_set_new(claims, "sub", json_string(sub));
    json_object_set_new(claims, "name", json_string(name));
    if (json_object_set_new(claims, "nats", nats) != 0) {
        json_decref(claims);
        return DPF_ERR_NOMEM;
    }
    *out = claims;
    return DPF_OK;
}

dpf_status dpf_jwt_operator_claims(const char *op_pub, const char *name, const char *system_account,
                                   json_t **out)
{
    *out = NULL;
    if (!dpf_nkey_public_valid(op_pub, DPF_NKEY_OPERATOR) ||
        (system_account != NULL && !dpf_nkey_public_valid(system_account, DPF_NKEY_ACCOUNT)))
        return DPF_ERR_INVALID;
    json_t *claims = json_object(), *nats = json_object();
    if (claims == NULL || nats == NULL) {
        json_decref(claims);
        json_decref(nats);
        return DPF_ERR_NOMEM;
    }
    if (system_account != NULL)
        json_object_set_new(nats, "system_account", json_string(system_account));
    return finish(claims, op_pub, name, nats, "operator", out);
}

dpf_status dpf_jwt_account_claims(const char *account_pub, const char *name, int jetstream,
                                  const char *const *signing_keys, json_t **out)
{
    *out = NULL;
    if (!dpf_nkey_public_valid(account_pub, DPF_NKEY_ACCOUNT))
        return DPF_ERR_INVALID;
    for (size_t i = 0; signing_keys != NULL && signing_keys[i] != NULL; i++)
        if (!dpf_nkey_public_valid(signing_keys[i], DPF_NKEY_ACCOUNT))
            return DPF_ERR_INVALID;
    /* -1 is "no limit"; JetStream is enabled for the account when it may
     * store anything (mem_storage or disk_storage not 0) */
    json_t *limits = json_pack("{s:i,s:i,s:i,s:i,s:i,s:b,s:i,s:i}", "subs", -1, "data", -1,
                               "payload", -1, "imports", -1, "exports", -1, "wildcards", 1,
                               "conn", -1, "leaf", -1);
    json_t *claims = json_object(), *nats = json_object();
    if (limits == NULL || claims == NULL || nats == NULL) {
        json_decref(limits);
        json_decref(claims);
        json_decref(nats);
        return DPF_ERR_NOMEM;
    }
    if (jetstream) {
        json_object_set_new(limits, "mem_storage", json_integer(-1));
        json_object_set_new(limits, "disk_storage", json_integer(-1));
        json_object_set_new(limits, "streams", json_integer(-1));
        json_object_set_new(limits, "consumer", json_integer(-1));
    }
    json_object_set_new(nats, "limits", limits);
    if (signing_keys != NULL && signing_keys[0] != NULL)
        json_object_set_new(nats, "signing_keys", subjects(signing_keys));
    json_object_set_new(nats, "default_permissions",
                        json_pack("{s:{},s:{}}", "pub", "sub"));
    return finish(claims, account_pub, name, nats, "account", out);
}

dpf_status dpf_jwt_account_revoke(json_t *claims, const char *user_pub, long long at)
{
    json_t *nats = json_object_get(claims, "nats");
    if (!json_is_object(nats) || !dpf_nkey_public_valid(user_pub, DPF_NKEY_USER))
        return DPF_ERR_INVALID;
    json_t *rev = json_object_get(nats, "revocations");
    if (!json_is_object(rev)) {
        rev = json_object();
        if (rev == NULL || json_object_set_new(nats, "revocations", rev) != 0)
            return DPF_ERR_NOMEM;
    }
    return json_object_set_new(rev, user_pub, json_integer(at)) == 0 ? DPF_OK : DPF_ERR_NOMEM;
}

int dpf_jwt_account_revoked(const json_t *claims, const char *user_pub, long long iat)
{
    const json_t *rev = json_object_get(json_object_get(claims, "nats"), "revocations");
    json_t *at = json_object_get(rev, user_pub);
    if (at == NULL)
        at = json_object_get(rev, "*");
    return json_is_integer(at) && iat <= json_integer_value(at);
}

dpf_status dpf_jwt_user_claims(const char *user_pub, const char *name, const char *issuer_account,
                               const dpf_jwt_perms *perms, json_t **out)
{
    *out = NULL;
    if (!dpf_nkey_public_valid(user_pub, DPF_NKEY_USER) ||
        (issuer_account != NULL && !dpf_nkey_public_valid(issuer_account, DPF_NKEY_ACCOUNT)))
        return DPF_ERR_INVALID;
    json_t *claims = json_object();
    json_t *nats = json_pack("{s:i,s:i,s:i}", "subs", -1, "data", -1, "payload", -1);
    if (claims == NULL || nats == NULL) {
        json_decref(claims);
        json_decref(nats);
        return DPF_ERR_NOMEM;
    }
    if (perms != NULL) {
        json_object_set_new(nats, "pub", permission(perms->pub_allow, perms->pub_deny));
        json_object_set_new(nats, "sub", permission(perms->sub_allow, perms->sub_deny));
        if (perms->allow_responses)
            /* ttl is a Go duration (ns); 0 would be nats-server's default of 2
             * minutes, shorter than a slow agent step may take: 1 hour */
            json_object_set_new(nats, "resp", json_pack("{s:i,s:I}", "max", 1, "ttl",
                                                        (json_int_t)3600 * 1000000000LL));
    }
    if (issuer_account != NULL)
        json_object_set_new(nats, "issuer_account", json_string(issuer_account));
    return finish(claims, user_pub, name, nats, "user", out);
}

/* jti as nats-io/jwt: base32 (no padding) of SHA-512/256 of the claims'
 * JSON without a jti. */
static dpf_status set_jti(json_t *claims)
{
    json_object_del(claims, "jti");
    char *body = json_dumps(claims, JSON_COMPACT);
    if (body == NULL)
        return DPF_ERR_NOMEM;
    unsigned char md[32];
    unsigned mdlen = 0;
    int ok = EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha512_256(), NULL) == 1 && mdlen == 32;
    free(body);
    if (!ok)
        return DPF_ERR_VERIFY;
    char jti[(32 * 8 + 4) / 5 + 1];
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof md; i++) {
        buf = (buf << 8) | md[i];
        for (bits += 8; bits >= 5; bits -= 5)
            jti[o++] = B32[(buf >> (bits - 5)) & 31];
    }
    if (bits > 0)
        jti[o++] = B32[(buf << (5 - bits)) & 31];
    jti[o] = '\0';
    return json_object_set_new(claims, "jti", json_string(jti)) == 0 ? DPF_OK : DPF_ERR_NOMEM;
}

dpf_status dpf_jwt_sign(json_t *claims, const dpf_nkey *signer, char **jwt)
{
    *jwt = NULL;
    if (!json_is_object(claims))
        return DPF_ERR_INVALID;
    /* a re-signed JWT must be newer than the one it replaces: the resolver
     * keeps the one with the later iat */
    long long iat = (long long)time(NULL);
    json_t *old = json_object_get(claims, "iat");
    if (json_is_integer(old) && json_integer_value(old) >= iat)
        iat = json_integer_value(old) + 1;
    json_object_set_new(claims, "iat", json_integer(iat));
    json_object_set_new(claims, "iss", json_string(dpf_nkey_public(signer)));
    dpf_status st = set_jti(claims);
    if (st != DPF_OK)
        return st;
    char *body = json_dumps(claims, JSON_COMPACT);
    char *h64 = dpf_nkey_b64url(HEADER, strlen(HEADER));
    char *b64 = body ? dpf_nkey_b64url(body, strlen(body)) : NULL;
    size_t n = (h64 ? strlen(h64) : 0) + (b64 ? strlen(b64) : 0) + 2 + 90;
    char *out = h64 && b64 ? malloc(n) : NULL;
    unsigned char sig[DPF_NKEY_SIG_LEN];
    char *s64 = NULL;
    st = DPF_ERR_NOMEM;
    if (out != NULL) {
        int len = snprintf(out, n, "%s.%s", h64, b64);
        st = dpf_nkey_sign(signer, out, (size_t)len, sig);
        if (st == DPF_OK && (s64 = dpf_nkey_b64url(sig, sizeof sig)) == NULL)
            st = DPF_ERR_NOMEM;
        if (st == DPF_OK)
            snprintf(out + len, n - (size_t)len, ".%s", s64);
    }
    free(body);
    free(h64);
    free(b64);
    free(s64);
    if (st != DPF_OK) {
        free(out);
        return st;
    }
    *jwt = out;
    return DPF_OK;
}

dpf_status dpf_jwt_decode(const char *jwt, json_t **claims)
{
    *claims = NULL;
    const char *d1 = jwt ? strchr(jwt, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d2 == NULL || strchr(d2 + 1, '.') != NULL)
        return DPF_ERR_DECODE;
    size_t hlen = 0, blen = 0, slen = 0;
    unsigned char *h = dpf_nkey_b64url_decode(jwt, (size_t)(d1 - jwt), &hlen);
    unsigned char *b = dpf_nkey_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &blen);
    unsigned char *s = dpf_nkey_b64url_decode(d2 + 1, strlen(d2 + 1), &slen);
    json_t *hdr = h ? json_loadb((const char *)h, hlen, 0, NULL) : NULL;
    json_t *c = b ? json_loadb((const char *)b, blen, 0, NULL) : NULL;
    dpf_status st = DPF_ERR_DECODE;
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (s != NULL && slen == DPF_NKEY_SIG_LEN && json_is_object(c) && iss != NULL && alg != NULL &&
        strcmp(alg, "ed25519-nkey") == 0)
        st = dpf_nkey_verify(iss, jwt, (size_t)(d2 - jwt), s);
    free(h);
    free(b);
    free(s);
    json_decref(hdr);
    if (st != DPF_OK) {
        json_decref(c);
        return st;
    }
    *claims = c;
    return DPF_OK;
}

dpf_status dpf_jwt_creds(const char *user_jwt, const dpf_nkey *user, char **text)
{
    *text = NULL;
    if (user_jwt == NULL || dpf_nkey_kind(user) != DPF_NKEY_USER)
        return DPF_ERR_INVALID;
    char seed[DPF_NKEY_SEED_LEN + 1];
    dpf_nkey_seed(user, seed);
    size_t n = strlen(user_jwt) + 512;
    char *out = malloc(n);
    if (out != NULL)
        snprintf(out, n,
                 "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
                 "************************* IMPORTANT *************************\n"
                 "NKEY Seed printed below can be used to sign and prove identity.\n"
                 "NKEYs are sensitive and should be treated as secrets.\n\n"
                 "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
                 "*************************************************************\n",
                 user_jwt, seed);
    OPENSSL_cleanse(seed, sizeof seed);
    *text = out;
    return out ? DPF_OK : DPF_ERR_NOMEM;
}

dpf_status dpf_jwt_write_file(const char *path, const char *text, int mode)
{
    char tmp[4096];
    if (!dpf_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()))
        return DPF_ERR_INVALID;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return DPF_ERR_IO;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    /* the umask may have narrowed the mode, never widened it; fchmod pins it */
    int ok = off == len && fchmod(fd, (mode_t)mode) == 0 && fsync(fd) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return DPF_ERR_IO;
    }
    return DPF_OK;
}

dpf_status dpf_jwt_creds_write(const char *path, const char *user_jwt, const dpf_nkey *user)
{
    char *text = NULL;
    dpf_status st = dpf_jwt_creds(user_jwt, user, &text);
    if (st == DPF_OK)
        st = dpf_jwt_write_file(path, text, 0600);
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    return st;
}

/* The first line after the line that starts with begin (a "-----BEGIN"
 * marker), malloc'd, or NULL. */
static char *block_after(const char *text, const char *begin)
{
    const char *p = strstr(text, begin);
    if (p == NULL || (p = strchr(p, '\n')) == NULL)
        return NULL;
    p++;
    size_t n = strcspn(p, "\r\n");
    return n > 0 ? strndup(p, n) : NULL;
}

dpf_status dpf_jwt_creds_read(const char *path, char **jwt, dpf_nkey **user)
{
    *jwt = NULL;
    *user = NULL;
    char *text = NULL;
    size_t len = 0;
    dpf_status st = dpf_read_file(path, &text, &len);
    if (st != DPF_OK)
        return st;
    char *j = block_after(text, "-----BEGIN NATS USER JWT");
    char *seed = block_after(text, "-----BEGIN USER NKEY SEED");
    st = j != NULL && seed != NULL ? dpf_nkey_from_seed(seed, user) : DPF_ERR_DECODE;
    if (st == DPF_OK && dpf_nkey_kind(*user) != DPF_NKEY_USER) {
        dpf_nkey_destroy(*user);
        *user = NULL;
        st = DPF_ERR_DECODE;
    }
    if (seed != NULL)
        OPENSSL_cleanse(seed, strlen(seed));
    OPENSSL_cleanse(text, len);
    free(seed);
    free(text);
    if (st != DPF_OK) {
        free(j);
        return st == DPF_ERR_NOMEM ? st : DPF_ERR_DECODE;
    }
    *jwt = j;
    return DPF_OK;
}
