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
 *   failed             3307 naming the DP and the reason, nak with
 *                      HmanRetryDelaySeconds; the last allowed delivery is
 *                      terminated instead, with a line that says so */
#include "hman.h"
#include "service.h"

#include <stdio.h>
#include <string.h>

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
    dpf_status st = dpf_db_ensure(svc->db);
    if (st != DPF_OK) {
        pthread_mutex_unlock(&svc->mu);
        /* an outage, not a failed change: look again soon rather than after
         * HmanRetryDelaySeconds, so the change goes through seconds after
         * the database is back */
        int again_s = svc->cfg.retry_delay_s < 2 ? svc->cfg.retry_delay_s : 2;
        DPF_WARN("The database is not available (%s); %s will be processed again in %d s",
                 dpf_db_error(svc->db), path, again_s);
        finish(msg, dpf_bus_msg_nak(msg, again_s * 1000), "nak");
        dpf_log_set_corr(NULL);
        return;
    }
    st = hman_process_change_opts(svc->db, site, dpf_bus_msg_corr(msg), change_id, &opts,
                                  &res);
    if (st == DPF_ERR_DB && res.failed_nal[0] == '\0' && dpf_db_ensure(svc->db) == DPF_OK) {
        /* failed before touching any DP: most likely the connection died
         * while idle (a server restart shows only on the next query);
         * once reconnected, one more try settles it */
        DPF_INFO("Retrying %s once after: %s", path, res.reason);
        st = hman_process_change_opts(svc->db, site, dpf_bus_msg_corr(msg), change_id, &opts,
                                  &res);
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
