/* PostgreSQL access over libpq. Statements always take text parameters:
 * each distinct statement text is prepared once per connection (PQprepare,
 * then PQexecPrepared; see the statement cache below), and the only texts
 * sent without parameters are the fixed transaction keywords, LISTEN (whose
 * channel is quoted with PQescapeIdentifier) and the migration files, which
 * are our own multi-statement scripts. The last error and SQLSTATE stay in
 * the handle so callers can log or branch on them. */
#include "dpf/db.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "dpf/log.h"
#include "dpf/util.h"

#define DB_ERR_MAX 1024
#define DB_MAX_LISTEN 16
#define DB_CHANNEL_MAX 64
/* distinct statement texts prepared per connection; later ones are sent
 * unprepared (a service has a few dozen) */
#define DB_STMT_MAX 128

/* Any constant works; it only has to be the same for every dpfleet process. */
#define DB_MIGRATE_LOCK_KEY "7468091230171"

struct dpf_db {
    PGconn *conn;
    char err[DB_ERR_MAX];
    char sqlstate[6];
    /* channels to LISTEN on again after a reset: a new backend forgets them */
    int nlisten;
    char listen[DB_MAX_LISTEN][DB_CHANNEL_MAX];
    /* the statements prepared on this session: stmt[i] is "dpf<gen>_<i>" */
    struct {
        uint64_t hash;
        char *sql;
    } stmt[DB_STMT_MAX];
    int nstmt;
    unsigned gen;
};

struct dpf_db_result {
    PGresult *res;
};

static void set_error(dpf_db *db, const char *state, const char *msg)
{
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
    snprintf(db->err, sizeof db->err, "%s", msg ? msg : "");
    /* libpq messages end in a newline; the log and callers want one line */
    size_t n = strlen(db->err);
    while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == '\r'))
        db->err[--n] = '\0';
}

static void clear_error(dpf_db *db)
{
    db->err[0] = '\0';
    db->sqlstate[0] = '\0';
}

/* The server's notices (e.g. "relation already exists, skipping") go to our
 * log instead of libpq's default stderr print. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    DPF_DEBUG("PostgreSQL: %s", message);
}

/* ---- masking a URL for the log ---- */

#define DB_MASK "****"

/* Appends n bytes of s to buf at *off, cutting at len - 1. */
static void mask_put(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
    while (n-- > 0 && *off + 1 < len)
        buf[(*off)++] = *s++;
    buf[*off < len ? *off : len - 1] = '\0';
}

/* postgresql:// or postgres:// URI: user:PASSWORD@ (shown as user@) and
 * ?password=VALUE (and sslpassword). */
static void mask_uri(const char *url, const char *rest, char *buf, size_t len, size_t *off)
{
    size_t end = strcspn(rest, "?#");
    const char *at = NULL;
    for (const char *p = rest; p < rest + end; p++)
        if (*p == '@')
            at = p; /* the last one: an unencoded '@' in a password stays masked */
    const char *colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (colon) { /* dropped, not starred: "user:****@" still reads as a URL with a password */
        mask_put(buf, len, off, url, (size_t)(colon - url));
        mask_put(buf, len, off, at, (size_t)(rest + end - at));
    } else {
        mask_put(buf, len, off, url, (size_t)(rest + end - url));
    }
    const char *q = rest + end;
    while (*q != '\0') { /* q at '?', '&' or '#': copy it, then one parameter */
        size_t n = strcspn(q + 1, "&#") + 1;
        size_t key = strncmp(q + 1, "password=", 9) == 0      ? 10
                     : strncmp(q + 1, "sslpassword=", 12) == 0 ? 13
                                                               : 0;
        if (*q != '#' && key > 0) {
            mask_put(buf, len, off, q, key);
            mask_put(buf, len, off, DB_MASK, strlen(DB_MASK));
        } else {
            mask_put(buf, len, off, q, *q == '#' ? strlen(q) : n);
            if (*q == '#')
                break;
        }
        q += n;
    }
}

/* libpq keyword/value string: password=VALUE or password = 'VALUE' (and
 * sslpassword). */
static void mask_keywords(const char *url, char *buf, size_t len, size_t *off)
{
    const char *p = url;
    while (*p != '\0') {
        const char *k = strstr(p, "password");
        const char *w = k && k - url >= 3 && strncmp(k - 3, "ssl", 3) == 0 ? k - 3 : k;
        int at_word = k && (w == url || w[-1] == ' ' || w[-1] == '\t'); /* or sslpassword */
        const char *v = k ? k + 8 : NULL;
        while (v && (*v == ' ' || *v == '\t'))
            v++;
        if (!k || !at_word || *v != '=') {
            size_t n = k ? (size_t)(k + 8 - p) : strlen(p);
            mask_put(buf, len, off, p, n);
            p += n;
            continue;
        }
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        mask_put(buf, len, off, p, (size_t)(v - p));
        mask_put(buf, len, off, DB_MASK, strlen(DB_MASK));
        if (*v == '\'') { /* quoted, with backslash escapes */
            for (v++; *v != '\0' && *v != '\''; v++)
                if (*v == '\\' && v[1] != '\0')
                    v++;
            if (*v == '\'')
                v++;
        } else {
            v += strcspn(v, " \t");
        }
        p = v;
    }
}

const char *dpf_db_url_masked(const char *url, char *buf, size_t len)
{
    size_t off = 0;
    if (buf == NULL || len == 0)
        return "";
    buf[0] = '\0';
    if (url == NULL)
        return buf;
    if (strncmp(url, "postgresql://", 13) == 0)
        mask_uri(url, url + 13, buf, len, &off);
    else if (strncmp(url, "postgres://", 11) == 0)
        mask_uri(url, url + 11, buf, len, &off);
    else
        mask_keywords(url, buf, len, &off);
    return buf;
}

/* ---- the statement cache ----
 * At 5,000 DPs half of PostgreSQL's CPU went to parsing and planning the
 * same few statements again for every DP (PQexecParams prepares an unnamed
 * statement each time). A statement is now prepared the first time its
 * text is run on a connection and executed by name afterwards; PostgreSQL
 * keeps its plan (or re-plans per call when that is cheaper, its own
 * choice). The cache belongs to the session: a reset forgets it. */

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void stmt_name(const dpf_db *db, int i, char *buf, size_t len)
{
    snprintf(buf, len, "dpf%u_%d", db->gen, i);
}

/* Forgets every prepared statement (the server's are gone, or one of
 * them can no longer run); new names from now on. */
static void stmt_forget(dpf_db *db)
{
    for (int i = 0; i < db->nstmt; i++)
        free(db->stmt[i].sql);
    db->nstmt = 0;
    db->gen++;
}

/* The cached statement for sql, prepared now if new: its index, -1 when
 * it is to be sent unprepared (cache full, no memory), or -2 with *failed
 * set to the prepare's error result (the statement itself is wrong, or the
 * transaction is aborted: the caller reports that error). */
static int stmt_get(dpf_db *db, const char *sql, int nparams, PGresult **failed)
{
    uint64_t h = text_hash(sql);
    for (int i = 0; i < db->nstmt; i++)
        if (db->stmt[i].hash == h && strcmp(db->stmt[i].sql, sql) == 0)
            return i;
    if (db->nstmt >= DB_STMT_MAX)
        return -1;
    char *copy = strdup(sql);
    if (copy == NULL)
        return -1;
    char name[32];
    int i = db->nstmt;
    stmt_name(db, i, name, sizeof name);
    PGresult *res = PQprepare(db->conn, name, sql, nparams, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        free(copy);
        *failed = res;
        return -2;
    }
    PQclear(res);
    db->stmt[i].hash = h;
    db->stmt[i].sql = copy;
    db->nstmt++;
    return i;
}

/* One statement with text parameters, prepared through the cache. */
static PGresult *run_params(dpf_db *db, const char *sql, int nparams,
                            const char *const *params)
{
    PGresult *failed = NULL;
    int i = stmt_get(db, sql, nparams, &failed);
    if (i == -2)
        return failed;
    if (i < 0)
        return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    char name[32];
    stmt_name(db, i, name, sizeof name);
    PGresult *res = PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
    const char *state = res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR
                            ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                            : NULL;
    /* 26000: the session lost its prepared statements (DISCARD ALL);
     * 0A000: a table changed under a cached plan ("cached plan must not
     * change result type"). Prepare afresh; outside a transaction this
     * call can still be run as it is. */
    if (state != NULL && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0)) {
        stmt_forget(db);
        if (PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
            PQclear(res);
            res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        }
    }
    return res;
}

dpf_status dpf_db_connect(const char *url, dpf_db **out)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    if (url == NULL) {
        DPF_ERROR("database URL is not set");
        return DPF_ERR_INVALID;
    }
    dpf_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        return DPF_ERR_NOMEM;
    db->conn = PQconnectdb(url);
    if (db->conn == NULL) {
        free(db);
        return DPF_ERR_NOMEM;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char shown[512];
        set_error(db, "", PQerrorMessage(db->conn));
        DPF_ERROR("could not connect to PostgreSQL (%s): %s",
                  dpf_db_url_masked(url, shown, sizeof shown), db->err);
        dpf_db_destroy(db);
        return DPF_ERR_DB;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    *out = db;
    return DPF_OK;
}

void dpf_db_destroy(dpf_db *db)
{
    if (db == NULL)
        return;
    if (db->conn != NULL)
        PQfinish(db->conn);
    stmt_forget(db);
    free(db);
}

/* Runs a fixed command with no parameters (BEGIN, LISTEN "x"). */
static dpf_status exec_simple(dpf_db *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    dpf_status rc = DPF_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        set_error(db, state, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
        rc = strcmp(db->sqlstate, "23505") == 0 ? DPF_ERR_CONFLICT : DPF_ERR_DB;
        DPF_DEBUG("SQL failed (%s): %s [%s]", db->sqlstate, db->err, sql);
    } else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0 && strcmp(sql, "COMMIT") == 0) {
        /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK */
        set_error(db, "40000", "transaction was rolled back (an earlier statement failed)");
        rc = DPF_ERR_DB;
    }
    PQclear(res);
    return rc;
}

dpf_status dpf_db_ensure(dpf_db *db)
{
    if (db == NULL || db->conn == NULL)
        return DPF_ERR_INVALID;
    if (PQstatus(db->conn) == CONNECTION_OK)
        return DPF_OK;
    DPF_WARN("database connection lost, reconnecting");
    stmt_forget(db); /* a new session has none of them */
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_error(db, "", PQerrorMessage(db->conn));
        DPF_WARN("database reconnect failed: %s", db->err);
        return DPF_ERR_DB;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    DPF_INFO("database connection re-established");
    for (int i = 0; i < db->nlisten; i++) {
        char *ident = PQescapeIdentifier(db->conn, db->listen[i], strlen(db->listen[i]));
        if (ident == NULL)
            return DPF_ERR_NOMEM;
        char sql[DB_CHANNEL_MAX * 2 + 16];
        snprintf(sql, sizeof sql, "LISTEN %s", ident);
        PQfreemem(ident);
        dpf_status s = exec_simple(db, sql);
        if (s != DPF_OK)
            return s;
    }
    clear_error(db);
    return DPF_OK;
}

dpf_status dpf_db_exec(dpf_db *db, const char *sql, int nparams,
                       const char *const *params, dpf_db_result **out)
{
    if (out != NULL)
        *out = NULL;
    if (db == NULL || db->conn == NULL || sql == NULL || nparams < 0 ||
        (nparams > 0 && params == NULL))
        return DPF_ERR_INVALID;
    clear_error(db);

    PGresult *res = run_params(db, sql, nparams, params);
    if (res == NULL) {
        set_error(db, "", PQerrorMessage(db->conn));
        DPF_DEBUG("SQL failed: %s [%s]", db->err, sql);
        return DPF_ERR_NOMEM;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_error(db, PQresultErrorField(res, PG_DIAG_SQLSTATE), PQresultErrorMessage(res));
        if (db->err[0] == '\0')
            set_error(db, db->sqlstate, PQerrorMessage(db->conn));
        PQclear(res);
        DPF_DEBUG("SQL failed (%s): %s [%s]", db->sqlstate, db->err, sql);
        return strcmp(db->sqlstate, "23505") == 0 ? DPF_ERR_CONFLICT : DPF_ERR_DB;
    }
    if (out == NULL) {
        PQclear(res);
        return DPF_OK;
    }
    dpf_db_result *r = malloc(sizeof *r);
    if (r == NULL) {
        PQclear(res);
        return DPF_ERR_NOMEM;
    }
    r->res = res;
    *out = r;
    return DPF_OK;
}

dpf_status dpf_db_exec_row(dpf_db *db, const char *sql, int nparams,
                           const char *const *params, dpf_db_result **out)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    dpf_status st = dpf_db_exec(db, sql, nparams, params, out);
    if (st == DPF_OK && dpf_db_result_rows(*out) == 0) {
        dpf_db_result_free(*out);
        *out = NULL;
        st = DPF_ERR_NOT_FOUND;
    }
    return st;
}

dpf_status dpf_db_exec_text(dpf_db *db, const char *sql, int nparams,
                            const char *const *params, char *buf, size_t len)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, sql, nparams, params, &r);
    if (st == DPF_OK && buf != NULL && len > 0)
        snprintf(buf, len, "%s", dpf_db_result_get(r, 0, 0));
    dpf_db_result_free(r);
    return st;
}

dpf_status dpf_db_begin(dpf_db *db)
{
    if (db == NULL || db->conn == NULL)
        return DPF_ERR_INVALID;
    clear_error(db);
    return exec_simple(db, "BEGIN");
}

dpf_status dpf_db_commit(dpf_db *db)
{
    if (db == NULL || db->conn == NULL)
        return DPF_ERR_INVALID;
    clear_error(db);
    return exec_simple(db, "COMMIT");
}

void dpf_db_rollback(dpf_db *db)
{
    if (db == NULL || db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    /* keep the error that made the caller roll back */
    PGresult *res = PQexec(db->conn, "ROLLBACK");
    PQclear(res);
}

dpf_status dpf_db_set_corr(dpf_db *db, const char *corr)
{
    const char *params[1] = {corr ? corr : ""};
    return dpf_db_exec(db, "SELECT set_config('dpfleet.correlation_id', $1, true)", 1,
                       params, NULL);
}

const char *dpf_db_error(const dpf_db *db)
{
    return db ? db->err : "";
}

const char *dpf_db_sqlstate(const dpf_db *db)
{
    return db ? db->sqlstate : "";
}

dpf_status dpf_db_listen(dpf_db *db, const char *channel)
{
    if (db == NULL || db->conn == NULL || channel == NULL || *channel == '\0' ||
        strlen(channel) >= DB_CHANNEL_MAX)
        return DPF_ERR_INVALID;
    clear_error(db);
    char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
    if (ident == NULL) {
        set_error(db, "", PQerrorMessage(db->conn));
        return DPF_ERR_INVALID;
    }
    char sql[DB_CHANNEL_MAX * 2 + 16];
    snprintf(sql, sizeof sql, "LISTEN %s", ident);
    PQfreemem(ident);
    dpf_status s = exec_simple(db, sql);
    if (s != DPF_OK)
        return s;
    for (int i = 0; i < db->nlisten; i++) {
        if (strcmp(db->listen[i], channel) == 0)
            return DPF_OK;
    }
    if (db->nlisten < DB_MAX_LISTEN)
        snprintf(db->listen[db->nlisten++], DB_CHANNEL_MAX, "%s", channel);
    return DPF_OK;
}

/* Consumes every queued notification; returns how many there were. */
static int drain_notifies(dpf_db *db)
{
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(db->conn)) != NULL) {
        n++;
        PQfreemem(note);
    }
    return n;
}

dpf_status dpf_db_wait_notify(dpf_db *db, int timeout_ms)
{
    if (db == NULL || db->conn == NULL)
        return DPF_ERR_INVALID;
    /* a notification may have arrived during an earlier query */
    if (drain_notifies(db) > 0)
        return DPF_OK;
    int sock = PQsocket(db->conn);
    if (sock < 0) {
        set_error(db, "", "connection has no socket");
        return DPF_ERR_DB;
    }
    int64_t deadline = dpf_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    for (;;) {
        int64_t left_us = deadline - dpf_mono_us();
        int wait_ms = left_us > 0 ? (int)((left_us + 999) / 1000) : 0;
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        int rc = poll(&pfd, 1, wait_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                /* let a stopping service leave its loop promptly */
                if (dpf_stopping())
                    return DPF_ERR_TIMEOUT;
                continue;
            }
            set_error(db, "", strerror(errno));
            return DPF_ERR_IO;
        }
        if (rc > 0) {
            if (!PQconsumeInput(db->conn)) {
                set_error(db, "", PQerrorMessage(db->conn));
                return DPF_ERR_DB;
            }
            if (drain_notifies(db) > 0)
                return DPF_OK;
        }
        if (dpf_mono_us() >= deadline)
            return DPF_ERR_TIMEOUT;
    }
}

int dpf_db_result_rows(const dpf_db_result *r)
{
    return r ? PQntuples(r->res) : 0;
}

static int in_range(const dpf_db_result *r, int row, int col)
{
    return r != NULL && row >= 0 && row < PQntuples(r->res) && col >= 0 &&
           col < PQnfields(r->res);
}

const char *dpf_db_result_get(const dpf_db_result *r, int row, int col)
{
    if (!in_range(r, row, col))
        return "";
    return PQgetvalue(r->res, row, col);
}

int dpf_db_result_isnull(const dpf_db_result *r, int row, int col)
{
    if (!in_range(r, row, col))
        return 1;
    return PQgetisnull(r->res, row, col);
}

long long dpf_db_result_int(const dpf_db_result *r, int row, int col)
{
    if (dpf_db_result_isnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r->res, row, col);
    /* booleans come back as t/f in text format */
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    return strtoll(v, NULL, 10);
}

int dpf_db_result_col(const dpf_db_result *r, const char *name)
{
    if (r == NULL || name == NULL)
        return -1;
    return PQfnumber(r->res, name);
}

void dpf_db_result_free(dpf_db_result *r)
{
    if (r == NULL)
        return;
    PQclear(r->res);
    free(r);
}

/* ---- migrations ---- */

static int is_migration_name(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' &&
           n[2] >= '0' && n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted migration file names in dir; *names owned by the caller. */
static dpf_status list_migrations(const char *dir, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        DPF_ERROR("cannot open migration directory %s: %s", dir, strerror(errno));
        return errno == ENOENT ? DPF_ERR_NOT_FOUND : DPF_ERR_IO;
    }
    dpf_status st = DPF_OK;
    size_t n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_migration_name(e->d_name))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                st = DPF_ERR_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if ((v[n] = strdup(e->d_name)) == NULL) {
            st = DPF_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st != DPF_OK) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return st;
    }
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_names);
    *names = v;
    *count = n;
    return DPF_OK;
}

static dpf_status lock_migrations(dpf_db *db)
{
    return dpf_db_exec(db, "SELECT pg_advisory_xact_lock(" DB_MIGRATE_LOCK_KEY ")", 0, NULL,
                       NULL);
}

/* Applies one file in its own transaction unless it is already recorded. */
static dpf_status apply_migration(dpf_db *db, const char *dir, const char *name)
{
    char path[4096];
    char *sql = NULL;
    dpf_db_result *r = NULL;
    const char *params[1] = {name};

    if (!dpf_fmt(path, sizeof path, "%s/%s", dir, name))
        return DPF_ERR_INVALID;
    dpf_status st = dpf_db_begin(db);
    if (st != DPF_OK)
        return st;
    if ((st = lock_migrations(db)) != DPF_OK)
        goto cleanup;
    st = dpf_db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params, &r);
    if (st != DPF_OK)
        goto cleanup;
    if (dpf_db_result_rows(r) > 0) {
        dpf_db_rollback(db);
        dpf_db_result_free(r);
        return DPF_OK;
    }
    st = dpf_read_file(path, &sql, NULL);
    if (st != DPF_OK) {
        DPF_ERROR("cannot read migration %s: %s", path, dpf_status_text(st));
        goto cleanup;
    }
    /* our own multi-statement script: the one place PQexec runs text */
    st = exec_simple(db, sql);
    if (st != DPF_OK) {
        DPF_ERROR("migration %s failed: %s", name, db->err);
        goto cleanup;
    }
    st = dpf_db_exec(db, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params, NULL);
    if (st != DPF_OK)
        goto cleanup;
    st = dpf_db_commit(db);
    if (st == DPF_OK)
        DPF_INFO("Applied migration %s", name);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    dpf_db_result_free(r);
    free(sql);
    return st;
}

dpf_status dpf_db_migrate(dpf_db *db, const char *dir)
{
    if (db == NULL || dir == NULL)
        return DPF_ERR_INVALID;

    /* under the lock too: two processes running CREATE TABLE IF NOT EXISTS
     * at once can still collide on the catalog's unique index */
    dpf_status st = dpf_db_begin(db);
    if (st != DPF_OK)
        return st;
    st = lock_migrations(db);
    if (st == DPF_OK)
        st = dpf_db_exec(db,
                         "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version text PRIMARY KEY,"
                         " applied_at timestamptz NOT NULL DEFAULT now())",
                         0, NULL, NULL);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        DPF_ERROR("cannot create schema_migrations: %s", db->err);
        dpf_db_rollback(db);
        return st;
    }

    char **names = NULL;
    size_t count = 0;
    st = list_migrations(dir, &names, &count);
    if (st != DPF_OK)
        return st;
    for (size_t i = 0; i < count && st == DPF_OK; i++)
        st = apply_migration(db, dir, names[i]);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return st;
}
