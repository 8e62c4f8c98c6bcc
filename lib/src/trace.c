/* Writing the timeline of an admin action (trace_events, db/090_trace.sql).
 *
 * The rows are written on the caller's connection, inside its transaction,
 * because a row that says "Installed" must not survive the rollback of the
 * state it reports, nor be lost when that state commits. That is also why
 * a row must never make the caller's statement fail for a reason of its
 * own: texts from elsewhere (an agent's reply, an error from the host) are
 * cut to bounded lengths and made valid UTF-8 here, since PostgreSQL would
 * refuse an invalid byte and abort the whole transaction with it.
 *
 * Every value is a parameter; the agent's lines travel as one
 * newline-separated parameter that the statement splits into the text[]. */
#include "dpf/trace.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpf/log.h"
#include "dpf/util.h"

/* bytes kept of a text before the statement cuts it to characters: enough
 * for the limits in characters of 4-byte UTF-8 */
#define MESSAGE_BYTES (DPF_TRACE_MESSAGE_MAX * 4)
#define LINES_BYTES (DPF_TRACE_LINES_MAX * (DPF_TRACE_LINE_MAX * 4 + 1))

static const char SQL_EVENT[] =
    "INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, server_name, "
    " job, job_id, step, replica, tid, result, message) "
    "SELECT $1, n.t, n.t, $2, $3::bigint, $4, $5, $6, $7, $8, $9::bigint, $10, left($11, $12::int) "
    "FROM (SELECT clock_timestamp() AS t) n";

static const char SQL_START[] =
    "INSERT INTO trace_events (correlation_id, component, dpid, server_name, job, job_id, "
    " step, replica, tid, result) "
    "VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, $8, $9::bigint, 'running') RETURNING id";

static const char SQL_FINISH[] =
    "UPDATE trace_events SET ended_at = clock_timestamp(), result = $2, "
    " message = left($3, $4::int), "
    " agent_lines = ARRAY(SELECT left(u.l, $5::int) "
    "   FROM unnest(string_to_array($6, E'\\n')) WITH ORDINALITY AS u(l, i) "
    "   WHERE u.l <> '' ORDER BY u.i LIMIT $7::int) "
    "WHERE id = $1::bigint RETURNING id";

/* SQL_FINISH of the previous step ($10..$16) and SQL_START of the next
 * ($1..$9) in one round trip, at one instant (the next starts when the
 * previous ends): a job's steps cost one statement each on the
 * timeline, not two (a site reset of 5,000 DPs runs 35,000 steps). */
#define NEXT_FIN                                                                        \
    "WITH n AS (SELECT clock_timestamp() AS t), "                                       \
    " fin AS (UPDATE trace_events SET ended_at = (SELECT t FROM n), result = $11, "     \
    "  message = left($12, $13::int), "                                                 \
    "  agent_lines = ARRAY(SELECT left(u.l, $14::int) "                                 \
    "    FROM unnest(string_to_array($15, E'\\n')) WITH ORDINALITY AS u(l, i) "         \
    "    WHERE u.l <> '' ORDER BY u.i LIMIT $16::int) "                                 \
    "  WHERE id = $10::bigint RETURNING id) "
#define NEXT_INSERT                                                                     \
    "INSERT INTO trace_events (at, correlation_id, component, dpid, server_name, job, "  \
    " job_id, step, replica, tid, result) "                                             \
    "SELECT n.t, $1, $2, $3::bigint, $4, $5, $6, $7, $8, $9::bigint, 'running' FROM n "

static const char SQL_NEXT[] = NEXT_FIN NEXT_INSERT "RETURNING id";

/* SQL_NEXT with the DP's lease ($3, owner $17) renewed for $18 seconds in
 * the same statement: the new step's row only while the lease is the
 * owner's, and no row at all (not found) once it is not. */
static const char SQL_NEXT_LEASED[] =
    NEXT_FIN
    ", l AS (UPDATE distribution_points "
    "  SET lease_until = now() + make_interval(secs => $18::int) "
    "  WHERE dpid = $3::bigint AND lease_owner = $17 RETURNING action), "
    " ins AS (" NEXT_INSERT "CROSS JOIN l RETURNING id) "
    "SELECT ins.id, l.action FROM l LEFT JOIN ins ON true";

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_replica[256];

static void replica_init(void)
{
    const char *r = getenv("DPFLEET_REPLICA_NAME");
    if (r != NULL && r[0] != '\0') {
        dpf_fmt(g_replica, sizeof g_replica, "%s", r);
        return;
    }
    if (gethostname(g_replica, sizeof g_replica - 1) != 0)
        g_replica[0] = '\0';
    g_replica[sizeof g_replica - 1] = '\0';
}

const char *dpf_trace_replica(void)
{
    pthread_once(&g_once, replica_init);
    return g_replica;
}

void dpf_trace_join_lines(char *const *lines, size_t n, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; lines != NULL && i < n; i++) {
        const char *l = lines[i] != NULL ? lines[i] : "";
        size_t k = strlen(l);
        if (used + k + 2 > len)
            break;
        memcpy(buf + used, l, k);
        used += k;
        buf[used++] = '\n';
        buf[used] = '\0';
    }
}

static int result_known(const char *r)
{
    static const char *const known[] = {DPF_TRACE_RUNNING, DPF_TRACE_OK, DPF_TRACE_FAILED,
                                        DPF_TRACE_INFO, DPF_TRACE_WAITING};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(r, known[i]) == 0)
            return 1;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* overlong three- and four-byte forms, surrogates, beyond U+10FFFF */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
        (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* A copy of s (NULL = "") of at most max bytes, valid UTF-8: a byte that
 * starts no valid sequence becomes '?', and a sequence that does not fit
 * whole is left out. NULL when out of memory. Owned by the caller. */
static char *clean_text(const char *s, size_t max)
{
    if (s == NULL)
        s = "";
    size_t len = strlen(s);
    if (len > max)
        len = max;
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i);
        if (n == 0) {
            out[o++] = '?';
            i++;
        } else if (i + n > len) {
            break;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

/* The nine parameters a row's identity takes ($1..$9), into p. The
 * strings that come from elsewhere are cleaned into owned copies in c[]
 * (freed with free_who). 0 when out of memory. */
typedef struct who_params {
    char dpid[24], tid[24];
    char *c[5];
} who_params;

static void free_who(who_params *w)
{
    for (size_t i = 0; i < sizeof w->c / sizeof w->c[0]; i++)
        free(w->c[i]);
}

static int who_fill(const dpf_trace_who *who, const char *step, who_params *w,
                    const char **p)
{
    memset(w->c, 0, sizeof w->c);
    const char *corr = who->corr != NULL && who->corr[0] != '\0' ? who->corr : dpf_log_corr();
    const char *comp = who->component != NULL ? who->component : dpf_log_component();
    w->c[0] = clean_text(corr, 200);
    w->c[1] = clean_text(who->server, 300);
    w->c[2] = clean_text(who->job, 100);
    w->c[3] = clean_text(who->job_id, 400);
    w->c[4] = clean_text(step, 200);
    for (size_t i = 0; i < 5; i++)
        if (w->c[i] == NULL) {
            free_who(w);
            return 0;
        }
    if (who->dpid > 0)
        dpf_fmt(w->dpid, sizeof w->dpid, "%lld", who->dpid);
    dpf_fmt(w->tid, sizeof w->tid, "%llu", (unsigned long long)dpf_log_tid());
    p[0] = w->c[0];
    p[1] = comp;
    p[2] = who->dpid > 0 ? w->dpid : NULL;
    p[3] = w->c[1];
    p[4] = w->c[2];
    p[5] = w->c[3];
    p[6] = w->c[4];
    p[7] = dpf_trace_replica();
    p[8] = w->tid;
    return 1;
}

dpf_status dpf_trace_event(dpf_db *db, const dpf_trace_who *who, const char *step,
                           const char *result, const char *message)
{
    if (result == NULL)
        result = DPF_TRACE_INFO;
    if (db == NULL || who == NULL || step == NULL || !result_known(result))
        return DPF_ERR_INVALID;
    who_params w;
    const char *p[12];
    if (!who_fill(who, step, &w, p))
        return DPF_ERR_NOMEM;
    char *msg = clean_text(message, MESSAGE_BYTES);
    if (msg == NULL) {
        free_who(&w);
        return DPF_ERR_NOMEM;
    }
    char max[16];
    dpf_fmt(max, sizeof max, "%d", DPF_TRACE_MESSAGE_MAX);
    p[9] = result;
    p[10] = msg;
    p[11] = max;
    dpf_status st = dpf_db_exec(db, SQL_EVENT, 12, p, NULL);
    free(msg);
    free_who(&w);
    return st;
}

dpf_status dpf_trace_step_start(dpf_db *db, const dpf_trace_who *who, const char *step,
                                long long *id)
{
    if (id != NULL)
        *id = 0;
    if (db == NULL || who == NULL || step == NULL || id == NULL)
        return DPF_ERR_INVALID;
    who_params w;
    const char *p[9];
    if (!who_fill(who, step, &w, p))
        return DPF_ERR_NOMEM;
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, SQL_START, 9, p, &r);
    if (st == DPF_OK)
        *id = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    free_who(&w);
    return st;
}

/* SQL_NEXT, or SQL_NEXT_LEASED when owner is set. */
static dpf_status step_next(dpf_db *db, long long prev_id, const char *prev_result,
                            const char *prev_message, const char *prev_lines,
                            const dpf_trace_who *who, const char *step, const char *owner,
                            int lease_s, long long *id, int *action)
{
    if (id != NULL)
        *id = 0;
    if (action != NULL)
        *action = 0;
    if (db == NULL || who == NULL || step == NULL || id == NULL || prev_result == NULL ||
        !result_known(prev_result) || (owner != NULL && (who->dpid <= 0 || lease_s <= 0)))
        return DPF_ERR_INVALID;
    who_params w;
    const char *p[18];
    if (!who_fill(who, step, &w, p))
        return DPF_ERR_NOMEM;
    char *msg = clean_text(prev_message, MESSAGE_BYTES);
    char *ls = clean_text(prev_lines, LINES_BYTES);
    dpf_status st = DPF_ERR_NOMEM;
    if (msg != NULL && ls != NULL) {
        char sid[24], mmax[16], lmax[16], nmax[16], secs[16];
        dpf_fmt(sid, sizeof sid, "%lld", prev_id > 0 ? prev_id : 0LL);
        dpf_fmt(mmax, sizeof mmax, "%d", DPF_TRACE_MESSAGE_MAX);
        dpf_fmt(lmax, sizeof lmax, "%d", DPF_TRACE_LINE_MAX);
        dpf_fmt(nmax, sizeof nmax, "%d", DPF_TRACE_LINES_MAX);
        dpf_fmt(secs, sizeof secs, "%d", lease_s);
        p[9] = sid;
        p[10] = prev_result;
        p[11] = msg;
        p[12] = mmax;
        p[13] = lmax;
        p[14] = ls;
        p[15] = nmax;
        p[16] = owner;
        p[17] = secs;
        dpf_db_result *r = NULL;
        st = owner != NULL ? dpf_db_exec_row(db, SQL_NEXT_LEASED, 18, p, &r)
                           : dpf_db_exec_row(db, SQL_NEXT, 16, p, &r);
        if (st == DPF_OK) {
            *id = dpf_db_result_int(r, 0, 0);
            if (action != NULL && owner != NULL)
                *action = (int)dpf_db_result_int(r, 0, 1);
        }
        dpf_db_result_free(r);
    }
    free(msg);
    free(ls);
    free_who(&w);
    return st;
}

dpf_status dpf_trace_step_next(dpf_db *db, long long prev_id, const char *prev_result,
                               const char *prev_message, const char *prev_lines,
                               const dpf_trace_who *who, const char *step, long long *id)
{
    return step_next(db, prev_id, prev_result, prev_message, prev_lines, who, step, NULL, 0,
                     id, NULL);
}

dpf_status dpf_trace_step_next_leased(dpf_db *db, long long prev_id, const char *prev_result,
                                      const char *prev_message, const char *prev_lines,
                                      const dpf_trace_who *who, const char *step,
                                      const char *owner, int lease_s, long long *id,
                                      int *action)
{
    if (owner == NULL || action == NULL)
        return DPF_ERR_INVALID;
    return step_next(db, prev_id, prev_result, prev_message, prev_lines, who, step, owner,
                     lease_s, id, action);
}

dpf_status dpf_trace_step_finish(dpf_db *db, long long id, const char *result,
                                 const char *message, const char *lines)
{
    if (db == NULL || result == NULL || !result_known(result))
        return DPF_ERR_INVALID;
    if (id <= 0)
        return DPF_OK;
    char *msg = clean_text(message, MESSAGE_BYTES);
    char *ls = clean_text(lines, LINES_BYTES);
    dpf_status st = DPF_ERR_NOMEM;
    if (msg != NULL && ls != NULL) {
        char sid[24], mmax[16], lmax[16], nmax[16];
        dpf_fmt(sid, sizeof sid, "%lld", id);
        dpf_fmt(mmax, sizeof mmax, "%d", DPF_TRACE_MESSAGE_MAX);
        dpf_fmt(lmax, sizeof lmax, "%d", DPF_TRACE_LINE_MAX);
        dpf_fmt(nmax, sizeof nmax, "%d", DPF_TRACE_LINES_MAX);
        const char *p[] = {sid, result, msg, mmax, lmax, ls, nmax};
        st = dpf_db_exec_text(db, SQL_FINISH, 7, p, NULL, 0);
    }
    free(msg);
    free(ls);
    return st;
}

/* The savepoint around one row: DPF_OK when written or rolled back alone. */
static dpf_status guarded(dpf_db *db, dpf_status (*write)(dpf_db *, const void *),
                          const void *arg)
{
    if (db == NULL)
        return DPF_ERR_INVALID;
    dpf_status st = dpf_db_exec(db, "SAVEPOINT dpf_trace", 0, NULL, NULL);
    if (st != DPF_OK && strcmp(dpf_db_sqlstate(db), "25P01") == 0) {
        /* no transaction is open: the row commits by itself and its
         * failure harms nothing else */
        st = write(db, arg);
        if (st != DPF_OK)
            DPF_WARN("Could not record a row on the timeline (trace_events): %s",
                     st == DPF_ERR_DB ? dpf_db_error(db) : dpf_status_text(st));
        return DPF_OK;
    }
    if (st != DPF_OK)
        return st;
    st = write(db, arg);
    if (st == DPF_OK)
        return dpf_db_exec(db, "RELEASE SAVEPOINT dpf_trace", 0, NULL, NULL);
    DPF_WARN("Could not record a row on the timeline (trace_events): %s; the change it "
             "belongs to is recorded without it",
             st == DPF_ERR_DB ? dpf_db_error(db) : dpf_status_text(st));
    return dpf_db_exec(db, "ROLLBACK TO SAVEPOINT dpf_trace", 0, NULL, NULL);
}

typedef struct event_args {
    const dpf_trace_who *who;
    const char *step, *result, *message;
} event_args;

static dpf_status write_event(dpf_db *db, const void *a)
{
    const event_args *e = a;
    return dpf_trace_event(db, e->who, e->step, e->result, e->message);
}

dpf_status dpf_trace_event_tx(dpf_db *db, const dpf_trace_who *who, const char *step,
                              const char *result, const char *message)
{
    event_args e = {who, step, result, message};
    return guarded(db, write_event, &e);
}

typedef struct finish_args {
    long long id;
    const char *result, *message, *lines;
} finish_args;

static dpf_status write_finish(dpf_db *db, const void *a)
{
    const finish_args *f = a;
    return dpf_trace_step_finish(db, f->id, f->result, f->message, f->lines);
}

dpf_status dpf_trace_step_finish_tx(dpf_db *db, long long id, const char *result,
                                    const char *message, const char *lines)
{
    if (id <= 0)
        return DPF_OK;
    finish_args f = {id, result, message, lines};
    return guarded(db, write_finish, &f);
}

/* ---- batches: many point events, one statement ---- */

/* The rows travel as one JSON array parameter (built by jansson), which
 * the statement turns back into rows: one round trip for any number. */
static const char SQL_BATCH[] =
    "INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, server_name, "
    " job, job_id, step, replica, tid, result, message) "
    "SELECT r.corr, n.t, n.t, r.component, r.dpid, r.server, r.job, r.job_id, r.step, $2, "
    " r.tid, r.result, left(r.message, $3::int) "
    "FROM jsonb_to_recordset($1::jsonb) AS r(ord int, corr text, component text, dpid bigint, "
    " server text, job text, job_id text, step text, tid bigint, result text, message text) "
    "CROSS JOIN (SELECT clock_timestamp() AS t) n ORDER BY r.ord";

struct dpf_trace_batch {
    json_t *rows; /* array of objects */
};

dpf_status dpf_trace_batch_create(dpf_trace_batch **out)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    dpf_trace_batch *b = calloc(1, sizeof *b);
    if (b == NULL || (b->rows = json_array()) == NULL) {
        free(b);
        return DPF_ERR_NOMEM;
    }
    *out = b;
    return DPF_OK;
}

void dpf_trace_batch_destroy(dpf_trace_batch *b)
{
    if (b == NULL)
        return;
    json_decref(b->rows);
    free(b);
}

size_t dpf_trace_batch_count(const dpf_trace_batch *b)
{
    return b != NULL ? json_array_size(b->rows) : 0;
}

void dpf_trace_batch_truncate(dpf_trace_batch *b, size_t n)
{
    while (b != NULL && json_array_size(b->rows) > n)
        json_array_remove(b->rows, json_array_size(b->rows) - 1);
}

dpf_status dpf_trace_batch_add(dpf_trace_batch *b, const dpf_trace_who *who, const char *step,
                               const char *result, const char *message)
{
    if (result == NULL)
        result = DPF_TRACE_INFO;
    if (b == NULL || who == NULL || step == NULL || !result_known(result))
        return DPF_ERR_INVALID;
    who_params w;
    const char *p[9];
    if (!who_fill(who, step, &w, p))
        return DPF_ERR_NOMEM;
    char *msg = clean_text(message, MESSAGE_BYTES);
    json_t *o = msg != NULL ? json_object() : NULL;
    dpf_status st = DPF_ERR_NOMEM;
    if (o != NULL &&
        json_object_set_new(o, "ord", json_integer((json_int_t)json_array_size(b->rows))) == 0 &&
        json_object_set_new(o, "corr", json_string(p[0])) == 0 &&
        json_object_set_new(o, "component", json_string(p[1])) == 0 &&
        json_object_set_new(o, "dpid", who->dpid > 0 ? json_integer(who->dpid) : json_null()) ==
            0 &&
        json_object_set_new(o, "server", json_string(p[3])) == 0 &&
        json_object_set_new(o, "job", json_string(p[4])) == 0 &&
        json_object_set_new(o, "job_id", json_string(p[5])) == 0 &&
        json_object_set_new(o, "step", json_string(p[6])) == 0 &&
        json_object_set_new(o, "tid", json_integer((json_int_t)dpf_log_tid())) == 0 &&
        json_object_set_new(o, "result", json_string(result)) == 0 &&
        json_object_set_new(o, "message", json_string(msg)) == 0 &&
        json_array_append(b->rows, o) == 0)
        st = DPF_OK;
    json_decref(o);
    free(msg);
    free_who(&w);
    return st;
}

typedef struct batch_args {
    const char *json;
} batch_args;

static dpf_status write_batch(dpf_db *db, const void *a)
{
    const batch_args *ba = a;
    char max[16];
    dpf_fmt(max, sizeof max, "%d", DPF_TRACE_MESSAGE_MAX);
    const char *p[] = {ba->json, dpf_trace_replica(), max};
    return dpf_db_exec(db, SQL_BATCH, 3, p, NULL);
}

dpf_status dpf_trace_batch_write_tx(dpf_db *db, dpf_trace_batch *b)
{
    if (db == NULL || b == NULL)
        return DPF_ERR_INVALID;
    if (json_array_size(b->rows) == 0)
        return DPF_OK;
    char *text = json_dumps(b->rows, JSON_COMPACT);
    if (text == NULL)
        return DPF_ERR_NOMEM;
    batch_args a = {text};
    dpf_status st = guarded(db, write_batch, &a);
    free(text);
    json_array_clear(b->rows);
    return st;
}
