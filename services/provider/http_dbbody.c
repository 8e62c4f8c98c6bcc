/* The body of a reply made of JSON texts the database produced (the DP
 * reads): "[" t0 ",\n" t1 ... "]\n" for a list, or t0 "\n" for one value,
 * sent piece by piece straight out of the result, so a page of 5,000 DPs
 * is never copied and never decoded. Its length is computed first, so the
 * answer has a Content-Length like every other. */
#include "http_dbbody.h"

#include <stdlib.h>
#include <string.h>

typedef struct db_body {
    dpf_db_result *rows;
    int col;
    int n;         /* rows in the array, -1 for one value */
    int piece;     /* the piece being copied (see piece()) */
    size_t off;    /* bytes of it copied already */
} db_body;

static const char *row_text(const db_body *b, int row)
{
    /* SQL NULL (a DP deleted while its page was read) is JSON null */
    return dpf_db_result_isnull(b->rows, row, b->col) ? "null" : dpf_db_result_get(b->rows, row, b->col);
}

/* The k-th piece of the body, NULL past the end. An array of n texts has
 * 2n + 2 pieces: "[", then per row a separator ("" before the first row,
 * ",\n" before the others) and the row's text, then "]\n". One value has
 * two: its text and "\n". */
static const char *piece(const db_body *b, int k, size_t *len)
{
    const char *t = NULL;
    if (b->n < 0) {
        t = k == 0 ? row_text(b, 0) : k == 1 ? "\n" : NULL;
    } else if (k == 0) {
        t = "[";
    } else if (k <= 2 * b->n) {
        int row = (k - 1) / 2;
        if ((k - 1) % 2 == 0)
            t = row == 0 ? "" : ",\n";
        else
            t = row_text(b, row);
    } else if (k == 2 * b->n + 1) {
        t = "]\n";
    }
    *len = t ? strlen(t) : 0;
    return t;
}

static ssize_t db_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    db_body *b = cls;
    size_t out = 0;
    (void)pos; /* MHD reads in order: our cursor is the position */
    while (out < max) {
        size_t len;
        const char *t = piece(b, b->piece, &len);
        if (t == NULL)
            break;
        size_t take = len - b->off < max - out ? len - b->off : max - out;
        memcpy(buf + out, t + b->off, take);
        out += take;
        b->off += take;
        if (b->off == len) {
            b->piece++;
            b->off = 0;
        }
    }
    return out > 0 ? (ssize_t)out : MHD_CONTENT_READER_END_OF_STREAM;
}

static void db_body_free(void *cls)
{
    db_body *b = cls;
    dpf_db_result_free(b->rows);
    free(b);
}

struct MHD_Response *prov_http_db_response(prov_reply *reply)
{
    db_body *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->rows = reply->rows;
    b->col = reply->rows_col;
    b->n = reply->rows_n;
    uint64_t size = 0;
    size_t len;
    for (int k = 0; piece(b, k, &len) != NULL; k++)
        size += len;
    struct MHD_Response *resp = MHD_create_response_from_callback(size, 16 * 1024, db_body_read, b,
                                                                  db_body_free);
    if (resp == NULL) {
        free(b); /* the rows stay with the reply */
        return NULL;
    }
    reply->rows = NULL;
    return resp;
}
