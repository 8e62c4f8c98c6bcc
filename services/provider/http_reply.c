/* Building replies: every answer, success or error, is a JSON document; an
 * error is {"error": ..., "field": ..., "correlationId": ...} so a script can
 * always parse what it got and an administrator can quote the id. A reply
 * is either a jansson value or JSON texts made by the database (the DP
 * reads), which http_conn.c streams as they are. */
#include <stdarg.h>
#include <stdio.h>

#include <dpf/db.h>

#include "provider.h"

void prov_reply_clear(prov_reply *r)
{
    json_decref(r->body);
    r->body = NULL;
    dpf_db_result_free(r->rows);
    r->rows = NULL;
}

void prov_reply_db(prov_reply *r, int status, dpf_db_result *rows, int col, int n)
{
    prov_reply_clear(r);
    r->status = status;
    r->rows = rows;
    r->rows_col = col;
    r->rows_n = n;
}

void prov_reply_json(prov_reply *r, int status, json_t *body)
{
    prov_reply_clear(r);
    r->status = status;
    r->body = body != NULL ? body : json_object();
}

void prov_reply_error(prov_reply *r, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    /* jansson refuses invalid UTF-8; a message quoting bad input falls back */
    if (json_object_set_new(o, "error", json_string(msg)) != 0)
        json_object_set_new(o, "error", json_string("invalid input (not valid UTF-8)"));
    if (field != NULL && *field != '\0')
        json_object_set_new(o, "field", json_string(field));
    prov_reply_json(r, status, o);
}
