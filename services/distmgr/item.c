/* The parts of handling a message that do not depend on which message it
 * is, shared by the dp.ins and dp.dpn handlers so both check DPIDs, end
 * messages, report garbage, word their retries and handle busy or vanished
 * rows and interrupted steps the same way. */
#include "item.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

#include "db_pool.h"
#include "store_dp.h"

int dm_item_take_dpid(dm_item *it, const char *type, const char *prefix, const char *subject,
                      long long dpid, long long change_id)
{
    size_t plen = strlen(prefix);
    const char *tail = subject != NULL && strncmp(subject, prefix, plen) == 0 ? subject + plen
                                                                              : NULL;
    char *end = NULL;
    long long subj_id = tail != NULL ? strtoll(tail, &end, 10) : 0;
    if (dpid <= 0) {
        snprintf(it->bad, sizeof it->bad, "%s without a valid DPID (%lld)", type, dpid);
        return 0;
    }
    if (tail != NULL && end != tail && *end == '\0' && subj_id != dpid) {
        snprintf(it->bad, sizeof it->bad, "subject names DPID %lld but the body DPID %lld",
                 subj_id, dpid);
        return 0;
    }
    it->dpid = dpid;
    it->change_id = change_id;
    return 1;
}

dm_outcome dm_outcome_done(void)
{
    dm_outcome o = {.kind = DM_DONE};
    return o;
}

dm_outcome dm_outcome_retry(int delay_ms, const char *reason)
{
    dm_outcome o = {.kind = DM_RETRY, .delay_ms = delay_ms < 0 ? 0 : delay_ms};
    snprintf(o.reason, sizeof o.reason, "%s", reason != NULL ? reason : "");
    return o;
}

dm_outcome dm_outcome_give_up(const char *reason)
{
    dm_outcome o = {.kind = DM_GIVE_UP};
    snprintf(o.reason, sizeof o.reason, "%s", reason != NULL ? reason : "");
    return o;
}

void dm_item_end(dm_item *it, const dm_outcome *o)
{
    if (it->msg == NULL)
        return;
    dpf_status st = DPF_OK;
    const char *what = "ack";
    switch (o->kind) {
    case DM_DONE: st = dpf_bus_msg_ack(it->msg); break;
    case DM_RETRY: what = "nak"; st = dpf_bus_msg_nak(it->msg, o->delay_ms); break;
    case DM_GIVE_UP: what = "term"; st = dpf_bus_msg_term(it->msg); break;
    }
    if (st != DPF_OK)
        DPF_WARN("Could not %s the message for DPID %lld (%s); JetStream will redeliver it "
                 "and it will be found done", what, it->dpid, dpf_status_text(st));
    dpf_bus_msg_destroy(it->msg);
    it->msg = NULL;
}

/* The tokens of the jobs running in this replica (pointers to their
 * items' token fields), so a lease whose token is not here is dead. */
static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static const char **g_live;
static size_t g_nlive, g_live_cap;
static int g_live_lost; /* a token could not be kept: the reclaim may not run */

void dm_item_new_token(const dm_ctx *ctx, dm_item *it)
{
    char uuid[37];
    dpf_uuid(uuid);
    pthread_mutex_lock(&g_live_mu);
    snprintf(it->token, sizeof it->token, "%s/%s", ctx->owner, uuid);
    if (g_nlive == g_live_cap) {
        size_t cap = g_live_cap ? 2 * g_live_cap : 64;
        const char **grown = realloc(g_live, cap * sizeof *grown);
        if (grown != NULL) {
            g_live = grown;
            g_live_cap = cap;
        }
    }
    if (g_nlive < g_live_cap)
        g_live[g_nlive++] = it->token;
    else
        g_live_lost = 1;
    pthread_mutex_unlock(&g_live_mu);
}

void dm_item_token_done(dm_item *it)
{
    pthread_mutex_lock(&g_live_mu);
    for (size_t i = 0; i < g_nlive; i++) {
        if (g_live[i] == it->token) {
            g_live[i] = g_live[--g_nlive];
            break;
        }
    }
    pthread_mutex_unlock(&g_live_mu);
}

/* {"a","b"} with '"' and '\\' escaped: a text[] literal. NULL without memory. */
static char *live_literal(void)
{
    size_t len = 3;
    for (size_t i = 0; i < g_nlive; i++)
        len += 2 * strlen(g_live[i]) + 3;
    char *out = malloc(len);
    if (out == NULL)
        return NULL;
    char *w = out;
    *w++ = '{';
    for (size_t i = 0; i < g_nlive; i++) {
        if (i > 0)
            *w++ = ',';
        *w++ = '"';
        for (const char *c = g_live[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = '\0';
    return out;
}

#define RECLAIM_MAX 1000

int dm_item_reclaim_dead(const dm_ctx *ctx, dpf_db *db)
{
    long long *ids = malloc(RECLAIM_MAX * sizeof *ids);
    int n = -1;
    /* held across the statement: a job that starts meanwhile waits, so
     * every lease taken by a running job has its token in the list */
    pthread_mutex_lock(&g_live_mu);
    char *live = !g_live_lost ? live_literal() : NULL;
    if (ids != NULL && live != NULL &&
        dm_store_dp_release_dead(db, ctx->owner, live, ids, RECLAIM_MAX, &n) != DPF_OK)
        n = -1;
    size_t running = g_nlive;
    pthread_mutex_unlock(&g_live_mu);
    if (n < 0)
        DPF_WARN("Cannot release the leases of this replica's jobs that ended during the "
                 "outage: %s; they expire on their own", ids && live ? dpf_db_error(db)
                                                                     : "out of memory");
    else if (n > 0)
        DPF_INFO("Released %d DP leases of this replica's jobs that ended during the outage "
                 "(first DPID %lld; %zu jobs still running keep theirs); their work resumes now",
                 n, ids[0], running);
    free(live);
    free(ids);
    return n;
}

int dm_item_lease_dead(const dm_ctx *ctx, dpf_db *db, const dm_dp_row *dp)
{
    size_t n = strlen(ctx->owner);
    if (dp->lease_owner == NULL || strncmp(dp->lease_owner, ctx->owner, n) != 0 ||
        dp->lease_owner[n] != '/')
        return 0; /* another replica's: its own reclaim or the lease's end frees it */
    int live = 0;
    pthread_mutex_lock(&g_live_mu);
    for (size_t i = 0; i < g_nlive && !live; i++)
        live = strcmp(g_live[i], dp->lease_owner) == 0;
    pthread_mutex_unlock(&g_live_mu);
    if (live)
        return 0;
    /* a job that ended in the outage after the reclaim on recovery had
     * run (it was still live then), or before this replica noticed the
     * recovery: nothing else would free its lease before it runs out */
    DPF_INFO("DPID %lld is leased by %s, a job of this replica that has ended; releasing its "
             "lease now", dp->dpid, dp->lease_owner);
    return dm_item_reclaim_dead(ctx, db) > 0;
}

/* The connection in this worker's slot was borrowed as a long holder. A
 * job runs on one worker thread from start to end, so the mark is the
 * thread's. */
static _Thread_local int t_slot_long;

dpf_db *dm_item_db(const dm_ctx *ctx, dpf_db **slot)
{
    if (*slot == NULL) {
        *slot = dm_dbpool_get(ctx->dbpool, DM_DB_WAIT_MS);
        t_slot_long = 0;
        return *slot;
    }
    return dpf_db_ensure(*slot) == DPF_OK ? *slot : NULL;
}

dpf_db *dm_item_db_long(const dm_ctx *ctx, dpf_db **slot)
{
    if (*slot == NULL) {
        *slot = dm_dbpool_get_long(ctx->dbpool, DM_DB_WAIT_MS);
        t_slot_long = *slot != NULL;
        return *slot;
    }
    return dpf_db_ensure(*slot) == DPF_OK ? *slot : NULL;
}

void dm_item_db_put(const dm_ctx *ctx, dpf_db **slot)
{
    if (*slot != NULL && t_slot_long)
        dm_dbpool_put_long(ctx->dbpool, *slot);
    else
        dm_dbpool_put(ctx->dbpool, *slot);
    t_slot_long = 0;
    *slot = NULL;
}

dm_outcome dm_item_report_bad(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    DPF_ERROR("Message on %s could not be decoded: %s. Terminated; it will not be "
              "redelivered.", it->subject, it->bad);
    dpf_statmsg m = {
        .id = DPF_MSG_BAD_MESSAGE, .severity = 'E', .level = 'M',
        .component = DPF_COMP_DISTMGR, .site = ctx->site_code,
        .istr = {it->subject, it->bad},
    };
    if (dpf_statmsg_raise(ctx->bus, dm_item_db(ctx, slot), &m) != DPF_OK)
        DPF_WARN("Could not raise status message %u for the message on %s", m.id, it->subject);
    return dm_outcome_give_up(it->bad);
}

int dm_item_retry_ms(const dm_ctx *ctx, const dm_item *it, char *words, size_t len)
{
    if (it->msg == NULL) {
        snprintf(words, len, "will retry within %d s (reconcile)",
                 ctx->retry_delay_s + ctx->reconcile_s);
        return 0;
    }
    if ((int)dpf_bus_msg_deliveries(it->msg) >= ctx->max_deliveries)
        snprintf(words, len, "that was delivery %d of %d, the reconcile will retry within %d s",
                 ctx->max_deliveries, ctx->max_deliveries, ctx->retry_delay_s + ctx->reconcile_s);
    else
        snprintf(words, len, "will retry in %d s", ctx->retry_delay_s);
    return ctx->retry_delay_s * 1000;
}

/* A third of a lease, so the event is not spent on MaxDeliveries while the
 * lease runs (the reconcile takes over a lease that expired anyway). */
int dm_item_lease_busy_s(const dm_ctx *ctx)
{
    int s = ctx->lease_s / 3;
    return s < 5 ? 5 : s > 30 ? 30 : s;
}

void dm_item_release(const dm_item *it, dpf_db *db, long long dpid)
{
    if (db == NULL) {
        DPF_WARN("DPID %lld: no database connection to release the lease; it expires by "
                 "itself", dpid);
        return;
    }
    if (dm_store_dp_release(db, dpid, it->token) != DPF_OK)
        DPF_WARN("DPID %lld: could not release the lease (%s); it expires by itself", dpid,
                 dpf_db_error(db));
}

dm_outcome dm_item_read_failed(const dm_ctx *ctx, const dm_item *it, dpf_db *db)
{
    /* a read fails when the database is away, not because of the DP: look
     * again soon rather than after InstallRetryDelaySeconds */
    DPF_ERROR("DPID %lld: cannot read DistributionPoints (%s); will retry in %d s", it->dpid,
              db != NULL ? dpf_db_error(db) : "no database connection", DM_DB_RETRY_MS / 1000);
    return dm_outcome_retry(DM_DB_RETRY_MS, "cannot read DistributionPoints");
}

dm_outcome dm_item_lease_busy(const dm_ctx *ctx, const dm_item *it, const dm_dp_row *dp)
{
    DPF_INFO("DPID %lld is being worked on by %s (lease until %s), will look again in %d s",
             it->dpid, dp->lease_owner, dp->lease_until, dm_item_lease_busy_s(ctx));
    return dm_outcome_retry(dm_item_lease_busy_s(ctx) * 1000, "the DP is leased by another job");
}

int dm_item_begin_work(const dm_ctx *ctx, const dm_item *it, dpf_db *db, dm_dp_row *dp,
                       dm_event ev, dm_outcome *out)
{
    dm_state to;
    dpf_status st = dm_store_dp_move(db, dp->dpid, it->token, dp->state, ev, &to);
    if (st == DPF_OK) {
        dp->state = to;
        return 1;
    }
    char words[128];
    int delay = dm_item_retry_ms(ctx, it, words, sizeof words);
    DPF_ERROR("DPID %lld: could not move from %s to %s: %s; %s", dp->dpid,
              dm_state_name(dp->state),
              dm_state_name(ev == DM_EV_REMOVE ? DM_ST_REMOVING : DM_ST_INSTALLING),
              st == DPF_ERR_INVALID   ? "the state table does not allow it"
              : st == DPF_ERR_NOT_FOUND ? "the row changed since it was read"
                                        : dpf_db_error(db),
              words);
    dm_item_release(it, db, dp->dpid);
    *out = dm_outcome_retry(delay, "could not move the DP into its working state");
    return 0;
}

void dm_item_lost(const dm_item *it, dpf_db *db, long long dpid, const char *before)
{
    dm_dp_row now = {0};
    if (dm_store_dp_get(db, dpid, &now) == DPF_OK)
        DPF_WARN("DPID %lld: the DP changed before %s (now %s, lease %s); this job (%s) "
                 "leaves it as it is", dpid, before, dm_state_name(now.state),
                 now.lease_owner[0] != '\0' ? now.lease_owner : "free", it->token);
    else
        DPF_WARN("DPID %lld: the DP changed before %s (%s); this job (%s) leaves it as it is",
                 dpid, before, dpf_db_error(db), it->token);
    dm_dp_row_clear(&now);
    dm_item_release(it, db, dpid);
}

dpf_status dm_item_raise(const dm_ctx *ctx, dpf_db *db, const dm_dp_row *dp, unsigned id,
                         char severity, const char *step, const char *reason)
{
    dpf_statmsg m = {
        .id = id, .severity = severity, .level = 'M',
        .component = DPF_COMP_DISTMGR, .site = dp->site_code,
        .istr = {dp->nal_path, dp->server_name, step, reason},
        .nattrs = 1, .attr_id = {404}, .attr_val = {dp->nal_path},
    };
    return dpf_statmsg_raise(ctx->bus, db, &m);
}

dm_outcome dm_item_steps_interrupted(const dm_item *it, dpf_db *db, const dm_dp_row *dp,
                                     const dm_steps_result *res, const char *what)
{
    if (res->outcome == DM_STEPS_STOPPING) {
        dm_item_release(it, db, dp->dpid);
        DPF_INFO("Stopping: DPID %lld %s interrupted before step %s; it resumes on the "
                 "next start or on another replica", dp->dpid, what, res->step);
        return dm_outcome_retry(0, "the service is stopping");
    }
    if (res->outcome == DM_STEPS_REMOVED) {
        dm_item_release(it, db, dp->dpid);
        DPF_INFO("DPID %lld was marked for removal (Action = 3) during the %s; stopped before "
                 "step %s, the DP manager removes it (NAL Path %s)", dp->dpid, what, res->step,
                 dp->nal_path);
        return dm_outcome_done();
    }
    DPF_WARN("DPID %lld: another replica took the DP over before step %s; leaving it to "
             "that replica (this job's lease was %s)", dp->dpid, res->step, it->token);
    return dm_outcome_done();
}

dm_outcome dm_item_no_db_after_steps(const dm_item *it, const dm_dp_row *dp,
                                     const dm_steps_result *res, const char *what)
{
    DPF_ERROR("DPID %lld - NAL Path %s: the %s steps ended (%s%s%s) but there is no database "
              "connection to record it; will retry in %d s", dp->dpid, dp->nal_path, what,
              res->outcome == DM_STEPS_OK ? "all ok" : "stopped before ",
              res->outcome == DM_STEPS_OK ? "" : res->step,
              res->outcome == DM_STEPS_FAILED ? " failed" : "", DM_DB_RETRY_MS / 1000);
    (void)it;
    return dm_outcome_retry(DM_DB_RETRY_MS, "no database connection after the steps");
}

void dm_item_record_failure(const dm_ctx *ctx, const dm_item *it, dpf_db *db,
                            const dm_dp_row *dp, dm_steps_result *res, dm_event ev,
                            unsigned msg_id, const char *what, int *attempts)
{
    *attempts = 0;
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, it->corr);
    if (st == DPF_OK)
        st = dm_store_dp_mark_failed(db, dp->dpid, it->token, dp->state, ev, res->step,
                                     res->reason, attempts);
    if (st == DPF_OK)
        st = dm_step_trace_end_tx(db, res);
    if (st == DPF_OK) {
        if (dm_item_raise(ctx, db, dp, msg_id, 'E', res->step, res->reason) != DPF_OK)
            DPF_WARN("DPID %lld: status message %u could not be published or stored",
                     dp->dpid, msg_id);
        st = dpf_db_commit(db);
    }
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_ERROR("DPID %lld: could not record the failed %s (%s): %s", dp->dpid, what,
                  st == DPF_ERR_NOT_FOUND ? "lease lost" : "database", dpf_db_error(db));
    }
}
