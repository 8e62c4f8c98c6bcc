/* Status messages, raised the way the source raises them: logged as the
 * source's STATMSG line and, for anyone watching (dpctl statmsg watch),
 * published on statmsg.<site>.<component>.<id>.
 *
 * With a database the message belongs to the caller's transaction: one
 * statement writes the status_messages row and its outbox row
 * (statmsg_outbox_add, db/040), and dbmon publishes it once that commits.
 * Publishing here, before the caller's commit, would announce states that
 * then roll back, and a crash right after the commit would lose the message.
 * Only without a database (it is unreachable) is the message published
 * directly.
 *
 * The row is written with parameters only: each insertion string and each
 * attribute is its own parameter, so no value is ever spliced into SQL. */
#include "dpf/statmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpf/log.h"
#include "dpf/util.h"

#define STATMSG_SOURCE "SMS Server"
#define STATMSG_NISTR 10
#define STATMSG_LINE 4096

/* ---- the STATMSG line ---- */

typedef struct out_buf {
    char *buf;
    size_t len;  /* capacity */
    size_t used; /* what the whole line needs, even past len */
} out_buf;

static void out_add(out_buf *o, const char *fmt, ...) DPF_PRINTF(2, 3);

static void out_add(out_buf *o, const char *fmt, ...)
{
    char *at = NULL;
    size_t room = 0;
    if (o->used < o->len) {
        at = o->buf + o->used;
        room = o->len - o->used;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

/* "Wed May 11 18:36:58.062 2016", always in English and UTC like the source. */
static void gmtdate(int64_t time_ms, char *buf, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t ms = time_ms % 1000;
    time_t secs = (time_t)(time_ms / 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%s %s %02d %02d:%02d:%02d.%03d %d", days[tm.tm_wday % 7],
             months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms,
             tm.tm_year + 1900);
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

size_t dpf_statmsg_format(const Dpf__StatusMessage *pb, char *buf, size_t len)
{
    out_buf o = {.buf = buf, .len = buf ? len : 0, .used = 0};
    if (o.len > 0)
        buf[0] = '\0';
    if (pb == NULL)
        return 0;
    char date[64];
    gmtdate(pb->time_ms, date, sizeof date);
    out_add(&o, "STATMSG: ID=%u SEV=%s LEV=%s SOURCE=\"%s\" COMP=\"%s\" SYS=%s SITE=%s "
                "PID=%u TID=%llu GMTDATE=%s",
            (unsigned)pb->id, str_or_empty(pb->severity), str_or_empty(pb->level),
            str_or_empty(pb->source), str_or_empty(pb->component), str_or_empty(pb->system),
            str_or_empty(pb->site), (unsigned)pb->pid, (unsigned long long)pb->tid, date);
    /* the source always prints ISTR0..ISTR9, empty ones as "" */
    for (size_t i = 0; i < STATMSG_NISTR; i++)
        out_add(&o, " ISTR%zu=\"%s\"", i, i < pb->n_istr ? str_or_empty(pb->istr[i]) : "");
    out_add(&o, " NUMATTRS=%zu", pb->n_attrs);
    for (size_t i = 0; i < pb->n_attrs; i++) {
        const Dpf__StatusAttribute *a = pb->attrs[i];
        out_add(&o, " AID%zu=%u AVAL%zu=\"%s\"", i, a ? (unsigned)a->id : 0u, i,
                a ? str_or_empty(a->value) : "");
    }
    if (o.len > 0 && o.used >= o.len)
        buf[o.len - 1] = '\0';
    return o.used;
}

/* ---- raising ---- */

/* A subject token may not be empty or hold '.', '*', '>' or white space. */
static void subject_token(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n + 1 < len; p++) {
        char c = *p;
        out[n++] = (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t') ? '_' : c;
    }
    if (n == 0 && len > 1)
        out[n++] = '-';
    out[n] = '\0';
}

void dpf_statmsg_subject(const char *site, const char *component, unsigned id, char *buf,
                         size_t len)
{
    char site_tok[64], comp_tok[128];
    subject_token(site, site_tok, sizeof site_tok);
    subject_token(component, comp_tok, sizeof comp_tok);
    dpf_fmt(buf, len, "statmsg.%s.%s.%u", site_tok, comp_tok, id);
}

void dpf_statmsg_msg_id(long long record_id, int64_t time_ms, char *buf, size_t len)
{
    /* the time keeps ids unique when a database is recreated and its ids
     * start again at 1 within the stream's duplicate window */
    dpf_fmt(buf, len, "statmsg-%lld-%lld", record_id, (long long)time_ms);
}

static void iso_utc(int64_t time_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(time_ms % 1000));
}

/* Inserts the row and its outbox row (subject) in one statement, so they
 * commit together even outside a transaction; returns the row's id in
 * *record_id. */
static dpf_status store(dpf_db *db, const Dpf__StatusMessage *pb, const dpf_statmsg *m,
                        const char *subject, int64_t *record_id)
{
    char id[16], pid[16], tid[24], at[96];
    char attr_id[DPF_STATMSG_MAX_ATTRS][16];
    const char *params[14 + STATMSG_NISTR + 2 * DPF_STATMSG_MAX_ATTRS];
    int np = 0;

    snprintf(id, sizeof id, "%u", (unsigned)pb->id);
    snprintf(pid, sizeof pid, "%u", (unsigned)pb->pid);
    snprintf(tid, sizeof tid, "%llu", (unsigned long long)pb->tid);
    iso_utc(pb->time_ms, at, sizeof at);
    params[np++] = id;
    params[np++] = pb->severity;
    params[np++] = pb->level;
    params[np++] = pb->source;
    params[np++] = pb->component;
    params[np++] = pb->system;
    params[np++] = pb->site;
    params[np++] = pid;
    params[np++] = tid;
    params[np++] = at;
    params[np++] = pb->correlation_id;
    for (int i = 0; i < STATMSG_NISTR; i++)
        params[np++] = str_or_empty(m->istr[i]);
    params[np++] = subject; /* $22 */

    /* Only placeholder numbers are formatted into the statement; every value
     * is a parameter. Parameters 12..21 are ISTR0..ISTR9, 22 the subject. */
    char attrs_sql[600] = "'[]'::jsonb";
    int nattrs = m->nattrs < 0 ? 0 : m->nattrs;
    if (nattrs > DPF_STATMSG_MAX_ATTRS)
        nattrs = DPF_STATMSG_MAX_ATTRS;
    if (nattrs > 0) {
        size_t off = (size_t)snprintf(attrs_sql, sizeof attrs_sql, "jsonb_build_array(");
        for (int i = 0; i < nattrs; i++) {
            snprintf(attr_id[i], sizeof attr_id[i], "%u", m->attr_id[i]);
            params[np++] = attr_id[i];
            params[np++] = str_or_empty(m->attr_val[i]);
            off += (size_t)snprintf(attrs_sql + off, sizeof attrs_sql - off,
                                    "%sjsonb_build_object('id', $%d::int, 'value', $%d::text)",
                                    i ? ", " : "", np - 1, np);
        }
        snprintf(attrs_sql + off, sizeof attrs_sql - off, ")");
    }
    char sql[1600];
    snprintf(sql, sizeof sql,
             "WITH s AS (INSERT INTO status_messages (msg_id, severity, level, source, component,"
             " system, site_code, pid, tid, raised_at, correlation_id, istr, attrs)"
             " VALUES ($1::int, $2, $3, $4, $5, $6, $7, $8::int, $9::bigint, $10::timestamptz,"
             " $11, ARRAY[$12, $13, $14, $15, $16, $17, $18, $19, $20, $21]::text[], %s)"
             " RETURNING id, correlation_id)"
             " SELECT statmsg_outbox_add(s.id, $22, s.correlation_id) FROM s",
             attrs_sql);

    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, sql, np, params, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 1)
        *record_id = dpf_db_result_int(r, 0, 0);
    else if (st == DPF_OK)
        st = DPF_ERR_DB;
    dpf_db_result_free(r);
    return st;
}

/* Logs the STATMSG line; the line is what an administrator greps for. */
static void log_line(const Dpf__StatusMessage *pb)
{
    char line[STATMSG_LINE];
    char *text = line;
    size_t need = dpf_statmsg_format(pb, line, sizeof line);
    if (need >= sizeof line && (text = malloc(need + 1)) != NULL)
        dpf_statmsg_format(pb, text, need + 1);
    else if (text == NULL)
        text = line;
    DPF_INFO("%s", text);
    if (text != line)
        free(text);
}

/* Without a database: straight to the stream, with a uuid message id. */
static dpf_status publish_now(dpf_bus *bus, const Dpf__StatusMessage *pb, const char *subject)
{
    size_t plen = dpf__status_message__get_packed_size(pb);
    uint8_t *packed = malloc(plen ? plen : 1);
    if (packed == NULL)
        return DPF_ERR_NOMEM;
    dpf__status_message__pack(pb, packed);
    char uuid[37], msg_id[64];
    dpf_uuid(uuid);
    dpf_fmt(msg_id, sizeof msg_id, "statmsg-%s", uuid);
    dpf_status st = dpf_bus_publish(bus, subject, packed, plen, msg_id, pb->correlation_id);
    free(packed);
    if (st != DPF_OK)
        DPF_ERROR("could not publish status message %u on %s: %s", (unsigned)pb->id, subject,
                  dpf_status_text(st));
    return st;
}

dpf_status dpf_statmsg_raise(dpf_bus *bus, dpf_db *db, const dpf_statmsg *m)
{
    if (m == NULL || (m->severity != 'I' && m->severity != 'W' && m->severity != 'E') ||
        (m->level != 'M' && m->level != 'D') || m->nattrs < 0 ||
        m->nattrs > DPF_STATMSG_MAX_ATTRS)
        return DPF_ERR_INVALID;

    char sev[2] = {m->severity, '\0'};
    char lev[2] = {m->level, '\0'};
    char *istr[STATMSG_NISTR];
    Dpf__StatusAttribute attr_store[DPF_STATMSG_MAX_ATTRS];
    Dpf__StatusAttribute *attrs[DPF_STATMSG_MAX_ATTRS];

    /* protobuf-c wants char * but only reads: the casts below never lead
     * to a write into the caller's strings */
    Dpf__StatusMessage pb = DPF__STATUS_MESSAGE__INIT;
    pb.id = m->id;
    pb.severity = sev;
    pb.level = lev;
    pb.source = (char *)STATMSG_SOURCE;
    pb.component = (char *)(m->component ? m->component : dpf_log_component());
    pb.system = (char *)(m->system ? m->system : dpf_system_name());
    pb.site = (char *)str_or_empty(m->site);
    pb.pid = (uint32_t)getpid();
    pb.tid = dpf_log_tid();
    pb.time_ms = dpf_now_ms();
    for (int i = 0; i < STATMSG_NISTR; i++)
        istr[i] = (char *)str_or_empty(m->istr[i]);
    pb.n_istr = STATMSG_NISTR;
    pb.istr = istr;
    for (int i = 0; i < m->nattrs; i++) {
        dpf__status_attribute__init(&attr_store[i]);
        attr_store[i].id = m->attr_id[i];
        attr_store[i].value = (char *)str_or_empty(m->attr_val[i]);
        attrs[i] = &attr_store[i];
    }
    pb.n_attrs = (size_t)m->nattrs;
    pb.attrs = attrs;
    pb.correlation_id = (char *)dpf_log_corr();

    char subject[256];
    dpf_statmsg_subject(pb.site, pb.component, (unsigned)pb.id, subject, sizeof subject);

    dpf_status st = DPF_OK;
    if (db != NULL) {
        st = store(db, &pb, m, subject, &pb.record_id);
        if (st != DPF_OK)
            DPF_ERROR("could not store status message %u: %s", m->id, dpf_db_error(db));
    }
    /* logged even when storing failed: the line is all that is left then */
    log_line(&pb);
    if (db == NULL && bus != NULL)
        st = publish_now(bus, &pb, subject);
    return st;
}
