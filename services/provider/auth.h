/* Who may call what (issue 9): the bearer token of each request checked
 * against the route's roles (routes.c), with a short in-memory cache of
 * verified tokens so a busy provider does not ask PostgreSQL on every
 * request. Refusals are logged (method, path, client, reason; never the
 * secret). */
#ifndef PROV_AUTH_H
#define PROV_AUTH_H

#include "provider.h"
#include "token.h"

typedef struct prov_auth prov_auth;

/* ttl_s: how long a verified token is trusted without asking the database
 * again (0: never cached). *out owned by the caller. */
dpf_status prov_auth_create(int ttl_s, prov_auth **out) DPF_MUSTCHECK;
void prov_auth_destroy(prov_auth *a); /* NULL is a no-op */

/* Drops token id from the cache (a revocation through this provider). */
void prov_auth_forget(prov_auth *a, long long token_id);

/* The one message of every 401, whatever the reason (nothing for a guesser). */
#define PROV_AUTH_401 \
    "authentication required: send a valid API token as 'Authorization: Bearer <token>'"

/* Checks req (method, path, client) with its Authorization header value
 * (borrowed, NULL if absent). 1: allowed, req->user.user and req->role set
 * (or a public route). 0: reply holds the 401 or 403, logged. */
int prov_auth_request(prov_request *req, const char *authorization, prov_reply *reply);

#endif
