/* libFuzzer target: the provider's request validation, every endpoint that
 * reads a body or query arguments (validate_dp/bg/pkg/maint.c, json_in.c,
 * list_args.c). The first byte picks the parser; the rest is the body as
 * the HTTP layer hands it over (len bytes, NUL-terminated one past the end,
 * as http_conn.c keeps it). Besides the sanitizers, each parser's contract
 * is asserted: on success the fields it promises are set and bounded, on
 * failure the error names a message. POST /v1/tokens reads its body in
 * its handler (handle_tokens.c): it is run whole, with a database pool
 * whose server refuses every connection (port 1), so a body that passes
 * the checks is answered 503 and one that fails them 400. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbpool.h"
#include "fuzz_util.h"
#include "json_in.h"
#include "list_args.h"
#include "provider.h"
#include "validate_bg.h"
#include "validate_dp.h"
#include "validate_maint.h"
#include "validate_pkg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void failed(dpf_status st, const prov_field_error *err)
{
    CHECK(st == DPF_ERR_DECODE || st == DPF_ERR_INVALID || st == DPF_ERR_NOMEM);
    CHECK(memchr(err->message, 0, sizeof err->message) != NULL);
    CHECK(memchr(err->field, 0, sizeof err->field) != NULL);
    CHECK(st == DPF_ERR_NOMEM || err->message[0] != '\0');
}

static void dp(const char *b, size_t n, prov_spec_mode mode)
{
    prov_dp_spec s;
    prov_field_error err;
    dpf_status st = prov_dp_spec_parse(b, n, mode, &s, &err);
    if (st == DPF_OK) {
        CHECK(s.doc != NULL && s.n_groups <= PROV_GROUPS_MAX && s.n_sources <= PROV_SOURCES_MAX);
        if (mode == PROV_SPEC_CREATE) /* an update has no defaults */
            CHECK(s.description != NULL);
        for (size_t i = 0; i < s.n_groups; i++)
            CHECK(s.groups[i] != NULL && strlen(s.groups[i]) <= PROV_GROUP_NAME_MAX);
        if (mode == PROV_SPEC_CREATE)
            CHECK(s.server[0] != '\0' && strlen(s.site) == 3);
        CHECK(s.priority == 0 || (s.priority >= PROV_PRIORITY_MIN && s.priority <= PROV_PRIORITY_MAX));
        prov_dp_spec_clear(&s);
    } else {
        failed(st, &err);
        CHECK(s.doc == NULL);
    }
}

static void bg(const char *b, size_t n, prov_bg_mode mode)
{
    prov_bg_spec s;
    prov_field_error err;
    dpf_status st = prov_bg_spec_parse(b, n, mode, mode == PROV_BG_UPDATE ? "Group A" : NULL, &s,
                                       &err);
    if (st == DPF_OK) {
        CHECK(s.doc != NULL);
        if (mode == PROV_BG_CREATE)
            CHECK(s.name != NULL && s.name[0] != '\0' && strlen(s.site) == 3);
        if (s.boundaries != NULL)
            CHECK(json_array_size(s.boundaries) <= PROV_BG_BOUNDARIES_MAX);
        CHECK(s.default_fallback >= 0 && s.default_fallback <= PROV_BG_MINUTES_MAX);
        prov_bg_spec_clear(&s);
    } else {
        failed(st, &err);
        CHECK(s.doc == NULL);
    }
}

static void pkg(const char *b, size_t n)
{
    prov_pkg_spec s;
    prov_field_error err;
    dpf_status st = prov_pkg_spec_parse(b, n, &s, &err);
    if (st == DPF_OK) {
        CHECK(s.name != NULL && s.source_path != NULL && strlen(s.site) == 3);
        prov_pkg_spec_clear(&s);
    } else {
        failed(st, &err);
    }
}

static void targets(const char *b, size_t n, prov_targets_mode mode)
{
    prov_pkg_targets t;
    prov_field_error err;
    dpf_status st = prov_pkg_targets_parse(b, n, mode, &t, &err);
    if (st == DPF_OK) {
        CHECK(json_is_array(t.dps) && json_is_array(t.groups));
        CHECK(json_array_size(t.dps) + json_array_size(t.groups) > 0);
        prov_pkg_targets_clear(&t);
    } else {
        failed(st, &err);
    }
}

static void maint(const char *b, size_t n, int setdpmm)
{
    prov_maint_body m;
    prov_field_error err;
    dpf_status st = setdpmm ? prov_setdpmm_body_parse(b, n, &m, &err)
                            : prov_maint_body_parse(b, n, &m, &err);
    if (st == DPF_OK) {
        CHECK(m.enable == 0 || m.enable == 1);
        CHECK(memchr(m.nal, 0, sizeof m.nal) != NULL);
        if (setdpmm)
            CHECK(m.nal[0] != '\0');
    } else {
        failed(st, &err);
    }
}

/* Query arguments: "name=value" pieces separated by NUL bytes. */
typedef struct query {
    char *names[8];
    char *values[8];
    size_t n;
} query;

static const char *query_get(void *ctx, const char *name)
{
    query *q = ctx;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->names[i], name) == 0)
            return q->values[i];
    return NULL;
}

static void list_args(fuzz_in *in)
{
    query q = {.n = 0};
    while (in->n > 0 && q.n < 8) {
        char *piece = fuzz_piece(in, NULL);
        char *eq = strchr(piece, '=');
        if (eq == NULL) {
            free(piece);
            continue;
        }
        *eq = '\0';
        q.names[q.n] = piece;
        q.values[q.n] = eq + 1;
        q.n++;
    }
    prov_dp_filter f;
    prov_arg_error err;
    if (prov_dp_filter_parse(query_get, &q, &f, &err))
        CHECK(f.limit >= 1 && f.limit <= PROV_PAGE_MAX && f.maintenance >= -1 && f.maintenance <= 1);
    else
        CHECK(err.field != NULL && err.msg[0] != '\0');
    int limit;
    if (prov_page_limit_parse(query_get(&q, "limit"), &limit, &err))
        CHECK(limit >= 1 && limit <= PROV_PAGE_MAX);
    for (size_t i = 0; i < q.n; i++)
        free(q.names[i]);
}

static void token_body(char *b, size_t n)
{
    static prov_dbpool *pool;
    static prov_server server;
    if (pool == NULL) {
        if (prov_dbpool_create("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", 1,
                               &pool) != DPF_OK)
            abort();
        server.pool = pool;
        server.max_body = 1 << 20;
        server.content_roots = "";
    }
    static prov_request req;
    memset(&req, 0, sizeof req);
    req.server = &server;
    snprintf(req.method, sizeof req.method, "POST");
    req.path = (char *)"/v1/tokens";
    req.body = n ? b : NULL;
    req.body_len = n;
    snprintf(req.corr, sizeof req.corr, "fuzz");
    snprintf(req.user.user, sizeof req.user.user, "CONTOSO\\Admin");
    req.role = 1;
    prov_reply reply;
    memset(&reply, 0, sizeof reply);
    prov_handle_token_create(&req, &reply);
    CHECK(reply.status == 400 || reply.status == 503);
    prov_reply_clear(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once("SMS_PROVIDER");
    fuzz_in in = {data, size};
    unsigned which = fuzz_byte(&in);
    if (which % 13 == 11) {
        list_args(&in);
        return 0;
    }
    char *b = fuzz_strndup(in.p, in.n);
    size_t n = in.n;
    switch (which % 13) {
    case 0: dp(b, n, PROV_SPEC_CREATE); break;
    case 1: dp(b, n, PROV_SPEC_UPDATE); break;
    case 2: bg(b, n, PROV_BG_CREATE); break;
    case 3: bg(b, n, PROV_BG_UPDATE); break;
    case 4: pkg(b, n); break;
    case 5: targets(b, n, PROV_TARGETS_DISTRIBUTE); break;
    case 6: targets(b, n, PROV_TARGETS_REDISTRIBUTE); break;
    case 7: maint(b, n, 0); break;
    case 8: maint(b, n, 1); break;
    case 9: {
        prov_field_error err;
        dpf_status st = DPF_OK;
        json_t *o = prov_json_load_object(b, n, &err, &st);
        if (o == NULL)
            failed(st, &err);
        CHECK(o == NULL || json_is_object(o));
        json_decref(o);
        break;
    }
    case 12: token_body(b, n); break;
    case 10: {
        char id[PROV_PKG_ID_LEN + 1];
        if (prov_pkg_id_parse(b, id))
            CHECK(strlen(id) == PROV_PKG_ID_LEN);
        CHECK(prov_bg_name_ok(b) == 0 || (strlen(b) >= 1 && strlen(b) <= PROV_GROUP_NAME_MAX));
        break;
    }
    }
    free(b);
    return 0;
}
