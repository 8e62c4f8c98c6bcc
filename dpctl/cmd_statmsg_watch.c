/* dpctl statmsg watch: follows the DPF_STATMSG stream and prints each status
 * message as it arrives, one line each, flushed, until Ctrl-C. New messages
 * only, unless --all replays what the stream keeps. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dpf/bus.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#include "args.h"
#include "dpctl.h"
#include "statmsg_pb.h"

static void on_msg(dpf_bus_msg *m, void *closure)
{
    const dpctl_ctx *ctx = closure;
    Dpf__StatusMessage *pb = dpf__status_message__unpack(NULL, dpf_bus_msg_len(m), dpf_bus_msg_data(m));
    if (pb == NULL) {
        fprintf(stderr, "dpctl: a message on %s is not a status message; skipped\n",
                dpf_bus_msg_subject(m));
    } else if (ctx->json) {
        json_t *o = dpctl_statmsg_to_json(pb);
        char *text = json_dumps(o, JSON_COMPACT);
        if (text != NULL) {
            flockfile(stdout);
            puts(text);
            fflush(stdout);
            funlockfile(stdout);
        }
        free(text);
        json_decref(o);
    } else {
        dpctl_statmsg_print(pb);
    }
    dpf__status_message__free_unpacked(pb, NULL);
    dpf_bus_msg_destroy(m);
}

int dpctl_cmd_statmsg_watch(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"site", required_argument, NULL, 's'}, {"id", required_argument, NULL, 'i'},
        {"all", no_argument, NULL, 'a'}, {"nats", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *site = NULL, *id = NULL, *url = getenv("NATS_URL");
    int all = 0, c;
    long long v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': site = optarg; break;
        case 'i': id = optarg; break;
        case 'a': all = 1; break;
        case 'n': url = optarg; break;
        default: return DPCTL_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dpctl: statmsg watch takes no arguments\n");
        return DPCTL_USAGE;
    }
    if (id != NULL && !dpctl_parse_int(id, 0, 4294967295LL, &v)) {
        fprintf(stderr, "dpctl: --id wants a status message ID such as 2399\n");
        return DPCTL_USAGE;
    }
    char subject[128];
    if (!dpctl_statmsg_subject(site, id, subject, sizeof subject)) {
        fprintf(stderr, "dpctl: --site must be a site code such as PS1\n");
        return DPCTL_USAGE;
    }
    if (url == NULL || *url == '\0')
        url = "nats://127.0.0.1:4222";

    dpf_handle_signals();
    dpf_bus *bus = NULL;
    dpf_bus_sub *sub = NULL;
    /* a status-message reader's identity (statmsg.> and nothing else) when
     * one is given, else the process identity (DPFLEET_NATS_CREDS, NATS_USER) */
    dpf_bus_auth auth;
    dpf_bus_auth_from_env(&auth);
    const char *reader = getenv("DPFLEET_STATMSG_CREDS");
    if (reader != NULL && *reader != '\0') {
        auth.creds_file = reader;
        auth.user = NULL;
        auth.inbox_prefix = NULL; /* the reader's own (from its credential), not the environment's */
    }
    if (dpf_bus_connect_as(url, "dpctl statmsg watch", &auth, &bus) != DPF_OK) {
        fprintf(stderr, "dpctl: cannot connect to NATS at %s as %s (set --nats or NATS_URL, "
                "DPFLEET_STATMSG_CREDS)\n", url, auth.creds_file ? auth.creds_file : auth.user ? auth.user : "anonymous");
        return DPCTL_UNREACHABLE;
    }
    dpf_status st = dpf_bus_watch_stream(bus, DPF_STREAM_STATMSG, subject, !all, on_msg, ctx, &sub);
    if (st != DPF_OK) {
        fprintf(stderr, "dpctl: cannot watch %s on stream %s: %s\n", subject, DPF_STREAM_STATMSG,
                dpf_status_text(st));
        dpf_bus_destroy(bus);
        return DPCTL_UNREACHABLE;
    }
    fprintf(stderr, "dpctl: watching %s (%s); Ctrl-C to stop\n", subject,
            all ? "everything the stream keeps, then new ones" : "new messages");
    while (!dpf_stopping()) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    dpf_bus_sub_destroy(sub);
    dpf_bus_destroy(bus);
    return DPCTL_OK;
}
