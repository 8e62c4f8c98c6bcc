/* API tokens: making a secret (getrandom, base64url), hashing it (SHA-256,
 * OpenSSL) and the statements on api_tokens. Nothing here logs or returns
 * a secret except prov_token_issue's out, which its caller shows once. */
#include "token.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

static const char *const ROLE_NAMES[] = {"Full Administrator", "Infrastructure Administrator",
                                         "Application Administrator", "Read-only Analyst"};

const char *prov_role_name(unsigned role)
{
    for (unsigned i = 0; i < 4; i++) {
        if (role == (1u << i))
            return ROLE_NAMES[i];
    }
    return NULL;
}

unsigned prov_role_parse(const char *name)
{
    for (unsigned i = 0; name != NULL && i < 4; i++) {
        if (strcmp(name, ROLE_NAMES[i]) == 0)
            return 1u << i;
    }
    return 0;
}

void prov_roles_text(unsigned roles, char *buf, size_t len)
{
    size_t used = 0;
    int n = 0, total = 0;
    for (unsigned i = 0; i < 4; i++)
        total += (roles >> i) & 1u;
    if (len > 0)
        buf[0] = '\0';
    for (unsigned i = 0; i < 4 && used < len; i++) {
        if (!(roles & (1u << i)))
            continue;
        const char *sep = n == 0 ? "" : n == total - 1 ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, ROLE_NAMES[i]);
        if (w < 0)
            break;
        used += (size_t)w;
        n++;
    }
}

const char *prov_role_list(void)
{
    return "'Full Administrator', 'Infrastructure Administrator', 'Application Administrator', "
           "'Read-only Analyst'";
}

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

dpf_status prov_token_secret(char *out)
{
    unsigned char raw[33] = {0}; /* 32 random bytes; one zero byte pads the last group */
    size_t got = 0;
    while (got < 32) {
        ssize_t n = getrandom(raw + got, 32 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DPF_ERR_IO;
        got += (size_t)n;
    }
    size_t o = 0;
    memcpy(out, PROV_TOKEN_PREFIX, 4);
    o = 4;
    for (size_t i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
        out[o++] = B64URL[v & 63];
    }
    /* 32 bytes are 43 characters (the 44th would encode the pad only) */
    o = PROV_TOKEN_SECRET_LEN;
    out[o] = '\0';
    explicit_bzero(raw, sizeof raw);
    return DPF_OK;
}

int prov_token_wellformed(const char *s)
{
    if (s == NULL || strncmp(s, PROV_TOKEN_PREFIX, 4) != 0 || strlen(s) != PROV_TOKEN_SECRET_LEN)
        return 0;
    for (const char *p = s + 4; *p; p++) {
        if (strchr(B64URL, *p) == NULL)
            return 0;
    }
    return 1;
}

void prov_token_hash(const char *secret, unsigned char raw[32], char hex[PROV_TOKEN_HASH_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(secret, strlen(secret), md, &mdlen, EVP_sha256(), NULL);
    if (raw != NULL)
        memcpy(raw, md, 32);
    if (hex != NULL) {
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        hex[PROV_TOKEN_HASH_HEX] = '\0';
    }
}

#define ISO_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

dpf_status prov_token_issue(dpf_db *db, const char *user, const char *role,
                            const char *created_by, int hours, prov_token_made *out)
{
    char hex[PROV_TOKEN_HASH_HEX + 1], h[16];
    memset(out, 0, sizeof *out);
    if (prov_token_secret(out->secret) != DPF_OK)
        return DPF_ERR_IO;
    prov_token_hash(out->secret, NULL, hex);
    snprintf(h, sizeof h, "%d", hours);
    const char *p[] = {user, role, created_by, hours > 0 ? h : NULL, hex};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(
        db,
        "INSERT INTO api_tokens (user_name, role, created_by, expires_at, secret_sha256) "
        "VALUES ($1, $2, $3, now() + make_interval(hours => $4::int), $5) "
        "RETURNING id, coalesce(" ISO_UTC("expires_at") ", '')",
        5, p, &r);
    if (st == DPF_OK) {
        snprintf(out->id, sizeof out->id, "%s", dpf_db_result_get(r, 0, 0));
        snprintf(out->expires_at, sizeof out->expires_at, "%s", dpf_db_result_get(r, 0, 1));
    } else {
        explicit_bzero(out->secret, sizeof out->secret);
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_token_lookup(dpf_db *db, const char *hex, prov_token_row *out)
{
    const char *p[] = {hex};
    dpf_db_result *r = NULL;
    memset(out, 0, sizeof *out);
    dpf_status st = dpf_db_exec_row(
        db,
        "SELECT id, user_name, role, coalesce(extract(epoch FROM expires_at)::bigint, 0), "
        "(expires_at IS NOT NULL AND expires_at <= now())::int, (revoked_at IS NOT NULL)::int "
        "FROM api_tokens WHERE secret_sha256 = $1",
        1, p, &r);
    if (st == DPF_OK) {
        out->id = dpf_db_result_int(r, 0, 0);
        snprintf(out->user, sizeof out->user, "%s", dpf_db_result_get(r, 0, 1));
        out->role = prov_role_parse(dpf_db_result_get(r, 0, 2));
        out->expires_epoch = dpf_db_result_int(r, 0, 3);
        out->expired = (int)dpf_db_result_int(r, 0, 4);
        out->revoked = (int)dpf_db_result_int(r, 0, 5);
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_token_list(dpf_db *db, dpf_db_result **out)
{
    return dpf_db_exec(
        db,
        "SELECT json_build_object('id', id, 'user', user_name, 'role', role, "
        "'createdAt', " ISO_UTC("created_at") ", 'createdBy', created_by, "
        "'expiresAt', " ISO_UTC("expires_at") ", 'revoked', revoked_at IS NOT NULL, "
        "'revokedAt', " ISO_UTC("revoked_at") ", "
        "'expired', expires_at IS NOT NULL AND expires_at <= now())::text "
        "FROM api_tokens ORDER BY id DESC",
        0, NULL, out);
}

dpf_status prov_token_revoke(dpf_db *db, const char *id, int *was_revoked)
{
    const char *p[] = {id};
    char prev[8];
    *was_revoked = 0;
    /* the old value of revoked_at says whether this call revoked it */
    dpf_status st = dpf_db_exec_text(
        db,
        "UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) FROM "
        "(SELECT id, revoked_at IS NOT NULL AS was FROM api_tokens WHERE id = $1::bigint "
        "FOR UPDATE) o WHERE t.id = o.id RETURNING o.was::int",
        1, p, prev, sizeof prev);
    if (st == DPF_OK)
        *was_revoked = prev[0] == '1';
    return st;
}
