/* The parts of handling a message that do not depend on which message it
 * is, shared by the dp.ins and dp.dpn handlers so both end messages, report
 * garbage and word their retries the same way. */
#include "item.h"

#include <stdio.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>

#include "store_dp.h"

void dm_item_end(dm_item *it, dm_end how, int delay_ms)
{
    if (it->msg == NULL)
        return;
    dpf_status st = DPF_OK;
    const char *what = "ack";
    switch (how) {
    case DM_ACK: st = dpf_bus_msg_ack(it->msg); break;
    case DM_NAK: what = "nak"; st = dpf_bus_msg_nak(it->msg, delay_ms); break;
    case DM_TERM: what = "term"; st = dpf_bus_msg_term(it->msg); break;
    }
    if (st != DPF_OK)
        DPF_WARN("Could not %s the message for DPID %lld (%s); JetStream will redeliver it "
                 "and it will be found done", what, it->dpid, dpf_status_text(st));
    dpf_bus_msg_destroy(it->msg);
    it->msg = NULL;
}

dpf_db *dm_item_db(const dm_ctx *ctx, dpf_db **slot)
{
    if (*slot == NULL) {
        if (dpf_db_connect(ctx->db_url, slot) != DPF_OK)
            *slot = NULL;
        return *slot;
    }
    return dpf_db_ensure(*slot) == DPF_OK ? *slot : NULL;
}

void dm_item_report_bad(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    DPF_ERROR("Message on %s could not be decoded: %s. Terminated; it will not be "
              "redelivered.", it->subject, it->bad);
    dm_item_end(it, DM_TERM, 0);
    dpf_statmsg m = {
        .id = DPF_MSG_BAD_MESSAGE, .severity = 'E', .level = 'M',
        .component = DPF_COMP_DISTMGR, .site = ctx->site_code,
        .istr = {it->subject, it->bad},
    };
    if (dpf_statmsg_raise(ctx->bus, dm_item_db(ctx, slot), &m) != DPF_OK)
        DPF_WARN("Could not raise status message %u for the message on %s", m.id, it->subject);
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

void dm_item_release(dpf_db *db, long long dpid, const char *owner)
{
    if (dm_store_dp_release(db, dpid, owner) != DPF_OK)
        DPF_WARN("DPID %lld: could not release the lease (%s); it expires by itself", dpid,
                 dpf_db_error(db));
}
