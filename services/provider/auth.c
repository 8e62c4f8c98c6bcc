/* The request check. Order: a public route (/healthz) passes; otherwise the
 * credential is checked first (401 for none, a malformed, unknown, expired
 * or revoked one, all with the same message), so an unknown path tells a
 * stranger nothing; then the route's roles (403 naming the roles it needs);
 * 404/405 are the router's, after this.
 *
 * The cache holds verified tokens by SHA-256 for ttl seconds: at thousands
 * of requests a second one token costs one database lookup per ttl. A
 * revocation through this provider drops the token at once; another replica
 * honours it within ttl. An expiry is checked on every hit. */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <dpf/log.h>
#include <dpf/util.h>

#define CACHE_N 128

typedef struct entry {
    unsigned char hash[32];
    int used;
    long long id;
    unsigned role;
    long long expires_epoch;
    int64_t at_us;
    char user[PROV_TOKEN_USER_MAX + 1];
} entry;

struct prov_auth {
    pthread_mutex_t mu;
    int64_t ttl_us;
    entry e[CACHE_N];
};

dpf_status prov_auth_create(int ttl_s, prov_auth **out)
{
    prov_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_init(&a->mu, NULL);
    a->ttl_us = (int64_t)ttl_s * 1000000;
    *out = a;
    return DPF_OK;
}

void prov_auth_destroy(prov_auth *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a);
}

void prov_auth_forget(prov_auth *a, long long token_id)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < CACHE_N; i++) {
        if (a->e[i].used && a->e[i].id == token_id)
            memset(&a->e[i], 0, sizeof a->e[i]);
    }
    pthread_mutex_unlock(&a->mu);
}

/* 1 and *row filled when hash is cached, fresh and not expired. */
static int cache_get(prov_auth *a, const unsigned char *hash, prov_token_row *row)
{
    int found = 0;
    int64_t now = dpf_mono_us();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < CACHE_N; i++) {
        entry *e = &a->e[i];
        if (!e->used || memcmp(e->hash, hash, 32) != 0)
            continue;
        if (now - e->at_us >= a->ttl_us ||
            (e->expires_epoch != 0 && (long long)time(NULL) >= e->expires_epoch)) {
            memset(e, 0, sizeof *e);
            break;
        }
        row->id = e->id;
        row->role = e->role;
        row->expires_epoch = e->expires_epoch;
        snprintf(row->user, sizeof row->user, "%s", e->user);
        found = 1;
        break;
    }
    pthread_mutex_unlock(&a->mu);
    return found;
}

static void cache_put(prov_auth *a, const unsigned char *hash, const prov_token_row *row)
{
    if (a->ttl_us <= 0)
        return;
    pthread_mutex_lock(&a->mu);
    int slot = 0;
    for (int i = 0; i < CACHE_N; i++) { /* a free slot, else the oldest */
        if (!a->e[i].used) {
            slot = i;
            break;
        }
        if (a->e[i].at_us < a->e[slot].at_us)
            slot = i;
    }
    entry *e = &a->e[slot];
    memcpy(e->hash, hash, 32);
    e->used = 1;
    e->id = row->id;
    e->role = row->role;
    e->expires_epoch = row->expires_epoch;
    e->at_us = dpf_mono_us();
    snprintf(e->user, sizeof e->user, "%s", row->user);
    pthread_mutex_unlock(&a->mu);
}

static int refuse(prov_request *req, prov_reply *reply, int status, const char *reason)
{
    DPF_WARN("Access denied: %s %.200s from %s: %s", req->method, req->path, req->client,
             reason);
    if (status == 401) {
        prov_reply_error(reply, 401, NULL, "%s", PROV_AUTH_401);
        reply->www_authenticate = 1;
    } else {
        prov_reply_error(reply, 403, NULL, "%s", reason);
    }
    return 0;
}

/* The secret of "Bearer <secret>" (borrowed from value), NULL if malformed. */
static const char *bearer(const char *value)
{
    if (strncasecmp(value, "Bearer ", 7) != 0)
        return NULL;
    const char *s = value + 7;
    while (*s == ' ')
        s++;
    return prov_token_wellformed(s) ? s : NULL;
}

/* Verifies the secret: the cache, else the database. 1 with *row, or 0
 * after refusing (the reply set). */
static int verify(prov_request *req, const char *secret, prov_token_row *row, prov_reply *reply)
{
    unsigned char raw[32];
    char hex[PROV_TOKEN_HASH_HEX + 1];
    prov_auth *a = req->server->auth;
    prov_token_hash(secret, raw, hex);
    if (cache_get(a, raw, row))
        return 1;
    dpf_db *db = prov_request_db(req, reply); /* answers 503 itself */
    if (db == NULL)
        return 0;
    dpf_status st = prov_token_lookup(db, hex, row);
    if (st == DPF_ERR_DB)
        DPF_ERROR("looking up an API token failed: %s", dpf_db_error(db));
    prov_dbpool_release_read(req->server->pool, db);
    char why[160];
    if (st == DPF_ERR_NOT_FOUND)
        return refuse(req, reply, 401, "unknown token");
    if (st != DPF_OK) {
        prov_reply_error(reply, 503, NULL, "the database is not available; try again later");
        return 0;
    }
    if (row->revoked || row->expired || row->role == 0) {
        snprintf(why, sizeof why, "token %lld (user %.100s) is %s", row->id, row->user,
                 row->revoked ? "revoked" : row->expired ? "expired" : "of an unknown role");
        return refuse(req, reply, 401, why);
    }
    cache_put(a, raw, row);
    return 1;
}

int prov_auth_request(prov_request *req, const char *authorization, prov_reply *reply)
{
    unsigned roles = 0;
    int known = prov_route_roles(req->method, req->path, &roles);
    if (known && (roles & PROV_PUBLIC))
        return 1;
    if (authorization == NULL || *authorization == '\0')
        return refuse(req, reply, 401, "no Authorization header");
    const char *secret = bearer(authorization);
    if (secret == NULL)
        return refuse(req, reply, 401, "malformed Authorization header (want Bearer dpf_...)");
    prov_token_row row;
    if (!verify(req, secret, &row, reply))
        return 0;
    snprintf(req->user.user, sizeof req->user.user, "%s", row.user);
    req->role = row.role;
    req->token_id = row.id;
    if (!known || (roles & row.role))
        return 1; /* 404/405 from the router */
    char need[160], why[640];
    prov_roles_text(roles, need, sizeof need);
    snprintf(why, sizeof why, "%s %.200s needs the role %s; the token of %.100s has the role %s",
             req->method, req->path, need, row.user, prov_role_name(row.role));
    return refuse(req, reply, 403, why);
}
