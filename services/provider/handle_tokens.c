/* The token endpoints (Full Administrator only, routes.c):
 *   POST /v1/tokens {user, role, expiresInHours?} -> 201 {id, token, user,
 *        role, expiresAt}: the secret is in this answer and nowhere else;
 *   GET /v1/tokens -> every token without its secret or hash;
 *   DELETE /v1/tokens/{id} -> 200, revoked at once in this provider.
 * Each change is an audit row (class DPF_ApiToken) naming the token's id,
 * user and role, never the secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/db.h>
#include <dpf/log.h>

#include "auth.h"
#include "provider.h"
#include "store_dp.h"
#include "token.h"

#define CLASS "DPF_ApiToken"

static const char *text_problem(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return "must not be empty";
    if (n > PROV_TOKEN_USER_MAX)
        return "is longer than 256 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            return "contains control characters";
    }
    return NULL;
}

/* Reads {user, role, expiresInHours?}; 0 after answering 400. */
static int read_body(prov_request *req, prov_reply *reply, const char **user, const char **role,
                     int *hours, json_t **doc)
{
    json_error_t jerr;
    /* the body's length, not its first NUL: "{...}\0junk" is not a JSON object */
    *doc = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)
                     : NULL;
    if (!json_is_object(*doc)) {
        prov_reply_error(reply, 400, NULL, "the body must be a JSON object {\"user\", \"role\", "
                         "\"expiresInHours\"?}");
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(*doc, key, v) {
        if (strcmp(key, "user") && strcmp(key, "role") && strcmp(key, "expiresInHours")) {
            prov_reply_error(reply, 400, key, "unknown field %.100s (want user, role, "
                             "expiresInHours)", key);
            return 0;
        }
    }
    *user = json_string_value(json_object_get(*doc, "user"));
    const char *why = *user ? text_problem(*user) : "is required (a string)";
    if (why != NULL) {
        prov_reply_error(reply, 400, "user", "user %s", why);
        return 0;
    }
    *role = json_string_value(json_object_get(*doc, "role"));
    if (prov_role_parse(*role) == 0) {
        prov_reply_error(reply, 400, "role", "role must be one of %s", prov_role_list());
        return 0;
    }
    json_t *h = json_object_get(*doc, "expiresInHours");
    *hours = 0;
    if (h != NULL && !json_is_null(h)) {
        if (!json_is_integer(h) || json_integer_value(h) < 1 ||
            json_integer_value(h) > PROV_TOKEN_MAX_HOURS) {
            prov_reply_error(reply, 400, "expiresInHours", "expiresInHours must be an integer "
                             "from 1 to %d (or left out: no expiry)", PROV_TOKEN_MAX_HOURS);
            return 0;
        }
        *hours = (int)json_integer_value(h);
    }
    return 1;
}

static void audit(dpf_db *db, const prov_request *req, const char *action, const char *object)
{
    const prov_user *u = &req->user;
    if (prov_store_audit(db, u->user, u->app, u->machine, action, CLASS, object, req->corr) !=
        DPF_OK)
        DPF_ERROR("writing the audit row of %s failed: %s", object, dpf_db_error(db));
    DPF_INFO("Auditing: User %s %s an instance of class %s: %s.", u->user, action, CLASS, object);
}

void prov_handle_token_create(prov_request *req, prov_reply *reply)
{
    const char *user, *role;
    int hours;
    json_t *doc = NULL;
    if (!read_body(req, reply, &user, &role, &hours, &doc)) {
        json_decref(doc);
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL) {
        json_decref(doc);
        return;
    }
    prov_token_made made;
    dpf_status st = prov_token_issue(db, user, role, req->user.user, hours, &made);
    if (st != DPF_OK) {
        DPF_ERROR("creating an API token for %s failed: %s", user,
                  st == DPF_ERR_IO ? "no random bytes" : dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "the token could not be created");
    } else {
        char object[400];
        snprintf(object, sizeof object, "token %s (user %s, role %s%s%s)", made.id, user, role,
                 made.expires_at[0] ? ", expires " : "", made.expires_at);
        audit(db, req, "created", object);
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s}", "id",
                              (json_int_t)strtoll(made.id, NULL, 10), "token", made.secret,
                              "user", user, "role", role, "expiresAt",
                              made.expires_at[0] ? json_string(made.expires_at) : json_null(),
                              "correlationId", req->corr);
        prov_reply_json(reply, 201, o);
    }
    explicit_bzero(made.secret, sizeof made.secret);
    prov_dbpool_release(req->server->pool, db);
    json_decref(doc);
}

void prov_handle_token_list(prov_request *req, prov_reply *reply)
{
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_token_list(db, &r) != DPF_OK) {
        DPF_ERROR("listing the API tokens failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the tokens");
        dpf_db_result_free(r);
    } else {
        prov_reply_db(reply, 200, r, 0, dpf_db_result_rows(r));
    }
    prov_dbpool_release_read(req->server->pool, db);
}

void prov_handle_token_revoke(prov_request *req, prov_reply *reply)
{
    const char *id = req->param;
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n) {
        prov_reply_error(reply, 404, "id", "no token with id %.40s", id);
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    int was = 0;
    dpf_status st = prov_token_revoke(db, id, &was);
    if (st == DPF_ERR_NOT_FOUND) {
        prov_reply_error(reply, 404, "id", "no token with id %s", id);
    } else if (st != DPF_OK) {
        DPF_ERROR("revoking API token %s failed: %s", id, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while revoking the token");
    } else {
        prov_auth_forget(req->server->auth, strtoll(id, NULL, 10));
        char object[64];
        snprintf(object, sizeof object, "token %s revoked", id);
        if (!was)
            audit(db, req, "modified", object);
        prov_reply_json(reply, 200, json_pack("{s:I, s:b, s:b, s:s}", "id",
                                              (json_int_t)strtoll(id, NULL, 10), "revoked", 1,
                                              "changed", !was, "correlationId", req->corr));
    }
    prov_dbpool_release(req->server->pool, db);
}
