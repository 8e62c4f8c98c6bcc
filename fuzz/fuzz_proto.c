/* libFuzzer target: the protobuf decoding of every subject a service
 * consumes, through the services' own decoders where they are callable
 * without a bus:
 *   dp.ins.<DPID>          distmgr dm_dp_ins_decode   (DpInstall)
 *   dp.dpn.<DPID>          distmgr dm_dp_dpn_decode   (DpNotification)
 *   dp.val.<DPID>          distmgr dm_dp_val_decode   (DpNotification)
 *   pkg.changed.<id>       distmgr dm_pkg_decode      (PackageChanged)
 *   sitecontrol.changed.>  hman's decode and site code check (SiteControlChanged)
 *   agent replies          distmgr's AgentReply reading (agent_client.c, content_agent.c)
 *   statmsg.>              dpctl statmsg watch (StatusMessage to JSON and to its line)
 * dpagent's agent.<FQDN>.step requests are fuzz_dispatch; dbmon consumes
 * no subject (it reads the outbox table and publishes).
 * Input: selector byte, subject, NUL, message bytes. Asserted: a decoder
 * either accepts a positive DPID or says why in it->bad. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/util.h>

#include "content.h"
#include "distmgr.h"
#include "fuzz_util.h"
#include "handle_dp_dpn.h"
#include "handle_dp_ins.h"
#include "statmsg_pb.h"
#include "validation.h"
#include "dpfleet.pb-c.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void item(dm_decode_fn fn, const uint8_t *data, size_t len, const char *subject)
{
    static dm_item it; /* large; as the processing thread's item */
    memset(&it, 0x5a, sizeof it);
    it.reason[0] = '\0';
    fn(data, len, subject, &it);
    CHECK(memchr(it.bad, 0, sizeof it.bad) != NULL);
    if (it.bad[0] == '\0') {
        CHECK(it.dpid > 0);
        CHECK(memchr(it.reason, 0, sizeof it.reason) != NULL);
    } else {
        CHECK(it.dpid == 0);
    }
}

/* hman_handle_sitecontrol's reading of the event, before any database work. */
static void sitecontrol(const uint8_t *data, size_t len, const char *subject)
{
    Dpf__SiteControlChanged *ev = dpf__site_control_changed__unpack(NULL, len, data);
    if (ev == NULL)
        return;
    char site[8], path[160], why[128];
    if (!dpf_site_code_valid(ev->site_code)) {
        dpf_fmt(why, sizeof why, "site code '%.16s' is not valid", ev->site_code);
    } else {
        dpf_fmt(site, sizeof site, "%s", ev->site_code);
        CHECK(strlen(site) == 3);
        dpf_fmt(path, sizeof path, "%s [%lld]", subject, (long long)ev->change_id);
    }
    dpf__site_control_changed__free_unpacked(ev, NULL);
}

/* What agent_client.c and content_agent.c read of a reply. */
static void agent_reply(const uint8_t *data, size_t len)
{
    Dpf__AgentReply *rep = dpf__agent_reply__unpack(NULL, len, data);
    if (rep == NULL)
        return;
    char reason[512], url[300];
    for (size_t i = 0; i < rep->n_log; i++)
        DPF_INFO("agent %s: %s", rep->fqdn, rep->log[i]);
    if (rep->content_url != NULL)
        snprintf(url, sizeof url, "%s", rep->content_url);
    dpf_fmt(reason, sizeof reason, "%s", rep->error != NULL && rep->error[0] != '\0'
                                             ? rep->error : "no reason");
    for (size_t i = 0; i < rep->n_content; i++) {
        const Dpf__ContentFile *f = rep->content[i];
        CHECK(f != NULL);
        dpf_fmt(reason, sizeof reason, "%s %s %lld", f->path, f->sha256, (long long)f->size);
    }
    dpf__agent_reply__free_unpacked(rep, NULL);
}

static void statmsg(const uint8_t *data, size_t len)
{
    Dpf__StatusMessage *pb = dpf__status_message__unpack(NULL, len, data);
    if (pb == NULL)
        return;
    json_t *o = dpctl_statmsg_to_json(pb);
    char *text = json_dumps(o, JSON_COMPACT);
    free(text);
    json_decref(o);
    dpctl_statmsg_print(pb);
    dpf__status_message__free_unpacked(pb, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once("SMS_DISTRIBUTION_MANAGER");
    fuzz_in in = {data, size};
    unsigned which = fuzz_byte(&in) % 7;
    char *subject = fuzz_piece(&in, NULL);
    switch (which) {
    case 0: item(dm_dp_ins_decode, in.p, in.n, subject); break;
    case 1: item(dm_dp_dpn_decode, in.p, in.n, subject); break;
    case 2: item(dm_dp_val_decode, in.p, in.n, subject); break;
    case 3: item(dm_pkg_decode, in.p, in.n, subject); break;
    case 4: sitecontrol(in.p, in.n, subject); break;
    case 5: agent_reply(in.p, in.n); break;
    case 6: statmsg(in.p, in.n); break;
    }
    free(subject);
    return 0;
}
