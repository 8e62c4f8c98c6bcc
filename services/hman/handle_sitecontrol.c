/* sitecontrol.changed.<site>: the source's PS1.SCU dropped in HMAN.box. The
 * event is only a wake-up: the handler processes the site's current site
 * control data (process.c), so a duplicate or late event is harmless.
 *
 * Outcomes, each acknowledged only after its effects are committed:
 *   processed          3306 (raised by process.c inside the change's
 *                      transaction, published by dbmon), ack
 *   processed before   (the same change id, delivered again) ack, nothing else
 *   covered            (a pass that read the site after the change was
 *                      written, e.g. for an earlier change of a burst) 3306
 *                      for this change without a second pass, ack
 *   DP set aside       (HmanSetAsideFailedDPs) 3308 for that DP, 3306, ack
 *   cannot be decoded  9901, term (never redelivered, never blocks the queue)
 *   site unknown       3307, term (redelivery cannot help)
 *   database away      (before the pass or under it, which rolls back) the
 *                      change is held, in progress, and processed as soon as
 *                      the database answers again: no 3307, no nak
 *   failed             3307 naming the DP and the reason, nak with
 *                      HmanRetryDelaySeconds; the last allowed delivery is
 *                      terminated instead, with a line that says so */
#include "hman.h"
#include "service.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <dpf/log.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>
#include "dpfleet.pb-c.h"

/* The site a subject names (its last token), or the fallback. */
static void subject_site(const char *subject, const char *fallback, char out[8])
{
    const char *dot = strrchr(subject, '.');
    const char *tok = dot ? dot + 1 : subject;
    dpf_fmt(out, 8, "%s", dpf_site_code_valid(tok) ? tok : fallback);
}

/* 9901 and 3307, outside any transaction (3307 after the rollback): the
 * statement writing the row and its outbox row commits by itself. When the
 * database is what failed, the message is published directly instead, so
 * it still reaches the watchers. Called under svc->mu. */
static void raise_msg(hman_service *svc, const dpf_statmsg *m)
{
    dpf_db *db = dpf_db_ensure(svc->db) == DPF_OK ? svc->db : NULL;
    if (dpf_statmsg_raise(svc->bus, db, m) != DPF_OK)
        DPF_WARN("Could not raise status message %u", m->id);
}

static void finish(dpf_bus_msg *msg, dpf_status st, const char *what)
{
    if (st != DPF_OK)
        DPF_WARN("Could not %s the message on %s (%s); JetStream will deliver it again",
                 what, dpf_bus_msg_subject(msg), dpf_status_text(st));
    dpf_bus_msg_destroy(msg);
}

static void reject(hman_service *svc, dpf_bus_msg *msg, const char *reason)
{
    const char *subject = dpf_bus_msg_subject(msg);
    char site[8];
    subject_site(subject, svc->cfg.site, site);
    DPF_ERROR("Cannot decode the site control change on %s (%zu bytes): %s. The message is "
              "terminated; see status message 9901", subject, dpf_bus_msg_len(msg), reason);
    dpf_status st = dpf_bus_msg_term(msg);
    dpf_statmsg m = {.id = DPF_MSG_BAD_MESSAGE, .severity = 'E', .level = 'M', .site = site};
    m.istr[0] = subject;
    m.istr[1] = reason;
    pthread_mutex_lock(&svc->mu);
    raise_msg(svc, &m);
    pthread_mutex_unlock(&svc->mu);
    finish(msg, st, "terminate");
}

static void failed(hman_service *svc, dpf_bus_msg *msg, const char *site, const char *path,
                   dpf_status st, const hman_result *res)
{
    dpf_statmsg m = {.id = DPF_MSG_HMAN_FAILED, .severity = 'E', .level = 'M', .site = site};
    m.istr[0] = path;
    m.istr[1] = site;
    m.istr[2] = res->failed_nal;
    m.istr[3] = res->reason;
    if (res->failed_nal[0]) {
        m.nattrs = 1;
        m.attr_id[0] = 404;
        m.attr_val[0] = res->failed_nal;
    }
    raise_msg(svc, &m);

    uint64_t n = dpf_bus_msg_deliveries(msg);
    int last = svc->cfg.max_deliver > 0 && n >= (uint64_t)svc->cfg.max_deliver;
    if (st == DPF_ERR_NOT_FOUND || last) {
        if (st == DPF_ERR_NOT_FOUND)
            DPF_ERROR("Site control change %s cannot be processed: %s. The message is "
                      "terminated", path, res->reason);
        else
            DPF_ERROR("Giving up on site control change %s after %llu deliveries: %s", path,
                      (unsigned long long)n, res->reason);
        finish(msg, dpf_bus_msg_term(msg), "terminate");
        return;
    }
    DPF_WARN("Site control change %s will be processed again in %d s (delivery %llu)", path,
             svc->cfg.retry_delay_s, (unsigned long long)n);
    finish(msg, dpf_bus_msg_nak(msg, svc->cfg.retry_delay_s * 1000), "nak");
}

/* 1 when the last error on db says the connection itself failed (no
 * answer, or the server going down: SQLSTATE class 08, 57P01-57P03), not
 * the statement. */
static int lost_connection(const dpf_db *db)
{
    const char *state = dpf_db_sqlstate(db);
    return state == NULL || *state == '\0' || strncmp(state, "08", 2) == 0 ||
           strncmp(state, "57P0", 4) == 0;
}

/* How often a change held in an outage looks at the database (the same
 * cadence as the service's own watch), and tells JetStream it is still in
 * progress (well inside HmanAckWaitSeconds, at least 1 s). */
#define OUTAGE_POLL_MS 1000
#define OUTAGE_PROGRESS_MS 10000

/* Waits, without svc->mu, until the database answers: 1, or 0 when the
 * service is stopping (the caller gives the change back). why: the error
 * that showed the outage, copied under svc->mu (svc->db is not read here
 * without it). */
static int wait_for_db(hman_service *svc, dpf_bus_msg *msg, const char *path, const char *why)
{
    int64_t since = dpf_mono_us(), told = since;
    DPF_WARN("The database is not available (%s); %s waits for it and is processed as soon "
             "as it is back", why, path);
    while (!atomic_load(&svc->stop) && !dpf_stopping()) {
        struct timespec nap = {OUTAGE_POLL_MS / 1000, (OUTAGE_POLL_MS % 1000) * 1000000L};
        nanosleep(&nap, NULL);
        pthread_mutex_lock(&svc->mu);
        dpf_status st = dpf_db_ensure(svc->db);
        pthread_mutex_unlock(&svc->mu);
        int64_t now = dpf_mono_us();
        if (st == DPF_OK) {
            DPF_INFO("The database is back after %.1f s; processing %s", (now - since) / 1e6,
                     path);
            return 1;
        }
        int every = svc->cfg.ack_wait_s * 1000 / 3;
        if (every > OUTAGE_PROGRESS_MS)
            every = OUTAGE_PROGRESS_MS;
        if (now - told >= (int64_t)(every < 1000 ? 1000 : every) * 1000) {
            told = now;
            if (dpf_bus_msg_in_progress(msg) != DPF_OK)
                DPF_DEBUG("%s: in-progress failed; JetStream may deliver it again", path);
        }
    }
    return 0;
}

void hman_handle_sitecontrol(dpf_bus_msg *msg, void *closure)
{
    hman_service *svc = closure;
    dpf_log_set_corr(dpf_bus_msg_corr(msg));
    Dpf__SiteControlChanged *ev = dpf__site_control_changed__unpack(
        NULL, dpf_bus_msg_len(msg), dpf_bus_msg_data(msg));
    if (ev == NULL) {
        reject(svc, msg, "not a SiteControlChanged protobuf");
        dpf_log_set_corr(NULL);
        return;
    }
    if (!dpf_site_code_valid(ev->site_code)) {
        char why[128];
        dpf_fmt(why, sizeof why, "site code '%.16s' is not valid", ev->site_code);
        dpf__site_control_changed__free_unpacked(ev, NULL);
        reject(svc, msg, why);
        dpf_log_set_corr(NULL);
        return;
    }
    char site[8], path[160];
    long long change_id = ev->change_id;
    dpf_fmt(site, sizeof site, "%s", ev->site_code);
    /* the change as dbmon's SND line names it (ISTR0 of 3307) */
    dpf_fmt(path, sizeof path, "%s [%lld]", dpf_bus_msg_subject(msg), (long long)ev->change_id);
    dpf__site_control_changed__free_unpacked(ev, NULL);
    DPF_INFO("Received site control change %s (delivery %llu)", path,
             (unsigned long long)dpf_bus_msg_deliveries(msg));

    hman_result res;
    hman_opts opts = {.set_aside_failed = svc->cfg.set_aside_failed};
    pthread_mutex_lock(&svc->mu);
    dpf_status st;
    int tries = 0;
    for (;;) {
        st = dpf_db_ensure(svc->db);
        if (st == DPF_OK) {
            st = hman_process_change_opts(svc->db, site, dpf_bus_msg_corr(msg), change_id,
                                          &opts, &res);
            if (st != DPF_ERR_DB)
                break;
            /* before the reconnect clears it */
            int lost = lost_connection(svc->db) || res.failed_nal[0] == '\0';
            if (dpf_db_ensure(svc->db) == DPF_OK) {
                /* the database answers: a change that failed on a dead
                 * connection (idle since a server restart, or lost under
                 * the pass) is tried once more; any other error is the
                 * change's (3307, HmanRetryDelaySeconds) */
                if (!lost || tries++ > 0)
                    break;
                DPF_INFO("Retrying %s once after: %s", path, res.reason);
                continue;
            }
        }
        /* an outage, not a failed change (the database went before the pass
         * or in the middle of it, which rolled back): hold the change and
         * process it the moment the database is back, rather than a nak
         * and HmanRetryDelaySeconds (work resumes within seconds, issue 8) */
        char why[256];
        dpf_fmt(why, sizeof why, "%s", dpf_db_error(svc->db));
        pthread_mutex_unlock(&svc->mu);
        int back = wait_for_db(svc, msg, path, why);
        pthread_mutex_lock(&svc->mu);
        if (!back) {
            pthread_mutex_unlock(&svc->mu);
            finish(msg, dpf_bus_msg_nak(msg, 0), "nak");
            dpf_log_set_corr(NULL);
            return;
        }
        tries = 0;
    }
    if (st == DPF_OK) {
        /* 3306 committed with the change (or, res.already, when the change
         * was processed the first time) */
        pthread_mutex_unlock(&svc->mu);
        finish(msg, dpf_bus_msg_ack(msg), "acknowledge");
    } else {
        failed(svc, msg, site, path, st, &res);
        pthread_mutex_unlock(&svc->mu);
    }
    dpf_log_set_corr(NULL);
}
