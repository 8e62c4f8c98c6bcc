/* Private header of the provider (the source's "SMS Provider"): the types the
 * HTTP layer, the router and the endpoint handlers share, and the handlers
 * themselves (one file each, handle_*.c). */
#ifndef PROVIDER_H
#define PROVIDER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <dpf/status.h>
#include "dbpool.h"

#define PROV_CORR_MAX 63   /* what dpf_log_set_corr keeps */
#define PROV_CTX_MAX 256   /* X-Dpf-User / X-Dpf-Application / X-Dpf-Machine */
#define PROV_PARAM_MAX 512 /* one {param} path segment */
#define PROV_DB_WAIT_MS 5000

/* Process-wide settings, read-only once the server runs. */
typedef struct prov_server {
    prov_dbpool *pool; /* borrowed from main */
    size_t max_body;
    const char *content_roots; /* DPFLEET_CONTENT_SOURCE_ROOTS, colon-separated; borrowed, "" = none */
    struct prov_auth *auth;    /* the verified-token cache (auth.h); borrowed from main */
} prov_server;

/* Who is asking, as the source's "Context:" lines show it: user from the
 * request's API token (never from a header), app and machine informational
 * (X-Dpf-Application, X-Dpf-Machine or the client's address). */
typedef struct prov_user {
    char user[PROV_CTX_MAX + 1];
    char app[PROV_CTX_MAX + 1];
    char machine[PROV_CTX_MAX + 1];
} prov_user;

/* One HTTP request, owned by the HTTP layer (http_conn.c) for the life of
 * the connection's request; handlers borrow it. */
typedef struct prov_request {
    const prov_server *server;
    void *conn;                  /* struct MHD_Connection *, for prov_request_query */
    char method[16];
    char *path;                  /* owned, trailing '/' removed */
    char param[PROV_PARAM_MAX + 1]; /* the first {param} segment of the route, "" if none */
    char param2[PROV_PARAM_MAX + 1]; /* the second one, "" if none */
    char *body;                  /* owned, NUL-terminated, NULL if none */
    size_t body_len;
    size_t body_cap;
    int body_too_large;
    char corr[PROV_CORR_MAX + 1];
    prov_user user;
    unsigned role;               /* the token's PROV_ROLE_* bit (token.h), 0 if none */
    long long token_id;          /* the token's id, 0 if none */
    char client[64];             /* the client's address, for the log */
    int64_t start_us;
    int status;                  /* the status sent, for the access log */
    int replied;
} prov_request;

/* What a handler answers; the HTTP layer turns it into the response. */
typedef struct prov_reply {
    int status;
    json_t *body; /* owned by the reply */
    /* Instead of body: JSON texts the database made (owned by the reply,
     * handed to the HTTP layer, which streams them without a copy). */
    struct dpf_db_result *rows;
    int rows_col;   /* the column holding the JSON texts */
    int rows_n;     /* rows 0..rows_n-1 as a JSON array; -1: row 0's text alone */
    char allow[64]; /* Allow header for 405, "" otherwise */
    char next_after[256]; /* X-Next-After header of a paged list, "" on its last page */
    int www_authenticate; /* a 401: add WWW-Authenticate: Bearer */
} prov_reply;

typedef void (*prov_handler)(prov_request *req, prov_reply *reply);

/* A query-string argument (borrowed, NULL if absent). */
const char *prov_request_query(const prov_request *req, const char *name);
/* The same with the prov_arg_fn signature (list_args.h); ctx is the request. */
const char *prov_request_query_cb(void *ctx, const char *name);
/* The first query-string argument whose name is not in known (NULL-terminated
 * list), borrowed; NULL when every one is known. */
const char *prov_request_unknown_query(const prov_request *req, const char *const *known);

/* Sets status and body (consumed; NULL means {}). */
void prov_reply_json(prov_reply *r, int status, json_t *body);
/* {"error": message, "field": field} ("field" left out when field is NULL or ""). */
void prov_reply_error(prov_reply *r, int status, const char *field, const char *fmt, ...)
    DPF_PRINTF(4, 5);
/* Answers with JSON texts made by the database: rows (consumed) column col
 * of rows 0..n-1 as a JSON array (n >= 0), or n = -1 for the text of row 0
 * as the whole body. Each text must be one JSON value. */
void prov_reply_db(prov_reply *r, int status, struct dpf_db_result *rows, int col, int n);
/* Frees the body (JSON or rows); safe to call twice. */
void prov_reply_clear(prov_reply *r);

/* Borrows a connection for the request, answering 503 itself when there is
 * none; returns NULL then. Release with prov_dbpool_release. */
struct dpf_db *prov_request_db(prov_request *req, prov_reply *reply);

/* Endpoints (routes.c maps method + path to these). */
void prov_handle_dp_create(prov_request *req, prov_reply *reply);
void prov_handle_dp_list(prov_request *req, prov_reply *reply);
void prov_handle_dp_show(prov_request *req, prov_reply *reply);
void prov_handle_dp_update(prov_request *req, prov_reply *reply);
void prov_handle_dp_delete(prov_request *req, prov_reply *reply);
void prov_handle_dp_maintenance(prov_request *req, prov_reply *reply);
void prov_handle_dp_validate(prov_request *req, prov_reply *reply);
void prov_handle_set_dp_maint(prov_request *req, prov_reply *reply);
void prov_handle_site_reset(prov_request *req, prov_reply *reply);
void prov_handle_statmsgs(prov_request *req, prov_reply *reply);
void prov_handle_healthz(prov_request *req, prov_reply *reply);
void prov_handle_readyz(prov_request *req, prov_reply *reply);
void prov_handle_pkg_create(prov_request *req, prov_reply *reply);
void prov_handle_pkg_update(prov_request *req, prov_reply *reply);
void prov_handle_pkg_list(prov_request *req, prov_reply *reply);
void prov_handle_pkg_show(prov_request *req, prov_reply *reply);
void prov_handle_pkg_delete(prov_request *req, prov_reply *reply);
void prov_handle_pkg_distribute(prov_request *req, prov_reply *reply);
void prov_handle_pkg_redistribute(prov_request *req, prov_reply *reply);
void prov_handle_pkg_remove_dp(prov_request *req, prov_reply *reply);
void prov_handle_bg_create(prov_request *req, prov_reply *reply);
void prov_handle_bg_list(prov_request *req, prov_reply *reply);
void prov_handle_bg_show(prov_request *req, prov_reply *reply);
void prov_handle_bg_update(prov_request *req, prov_reply *reply);
void prov_handle_bg_delete(prov_request *req, prov_reply *reply);
void prov_handle_content_location(prov_request *req, prov_reply *reply);
void prov_handle_token_create(prov_request *req, prov_reply *reply);
void prov_handle_token_list(prov_request *req, prov_reply *reply);
void prov_handle_token_revoke(prov_request *req, prov_reply *reply);

/* The roles (token.h bits, or PROV_PUBLIC) that may call method + path:
 * 1 with *roles set, 0 when no route matches (the router answers 404/405). */
int prov_route_roles(const char *method, const char *path, unsigned *roles);
/* The route table itself (routes.c), for its tests; *n set. */
const struct prov_route *prov_routes(size_t *n);

/* Routes the request: 404/405 replies for no match, otherwise the handler. */
void prov_dispatch(prov_request *req, prov_reply *reply);

#endif
