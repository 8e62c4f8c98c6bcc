/* dpctl dp add: builds the JSON body of POST /v1/distributionpoints from the
 * options. Only what was given is sent, so the API's defaults and its
 * validation stay the single source of truth; dpctl only checks that numbers
 * are numbers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "dpctl.h"

enum { O_SITE = 1, O_DESC, O_GROUP, O_PXE, O_PULL, O_MINFREE, O_DRIVE, O_PRIO };

static const struct option OPTS[] = {
    {"site", required_argument, NULL, O_SITE},
    {"description", required_argument, NULL, O_DESC},
    {"boundary-group", required_argument, NULL, O_GROUP},
    {"pxe", no_argument, NULL, O_PXE},
    {"pull-source", required_argument, NULL, O_PULL},
    {"min-free-mb", required_argument, NULL, O_MINFREE},
    {"drive", required_argument, NULL, O_DRIVE},
    {"priority", required_argument, NULL, O_PRIO},
    {NULL, 0, NULL, 0},
};

static int number(json_t *body, const char *key, const char *opt, const char *text)
{
    long long v;
    if (!dpctl_parse_int(text, -2147483648LL, 2147483647LL, &v)) {
        fprintf(stderr, "dpctl: --%s wants a whole number, not '%s'\n", opt, text);
        return 0;
    }
    json_object_set_new(body, key, json_integer(v));
    return 1;
}

static int add_source(json_t *sources, const char *text)
{
    char server[300], err[200];
    int prio;
    /* without ":PRIORITY" the sources are tried in the order given */
    int def = (int)json_array_size(sources) + 1;
    if (!dpctl_parse_pull_source(text, def, server, sizeof server, &prio, err, sizeof err)) {
        fprintf(stderr, "dpctl: %s\n", err);
        return 0;
    }
    json_array_append_new(sources, json_pack("{s:s, s:i}", "serverName", server, "priority", prio));
    return 1;
}

/* Fills body from the options; 0 on a usage error (already printed). */
static int parse(int argc, char **argv, json_t *body)
{
    json_t *groups = json_array(), *sources = json_array();
    int ok = 1, c;
    optind = 0;
    opterr = 1;
    while (ok && (c = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        switch (c) {
        case O_SITE: json_object_set_new(body, "siteCode", json_string(optarg)); break;
        case O_DESC: json_object_set_new(body, "description", json_string(optarg)); break;
        case O_GROUP: json_array_append_new(groups, json_string(optarg)); break;
        case O_PXE: json_object_set_new(body, "enablePXE", json_true()); break;
        case O_PULL: ok = add_source(sources, optarg); break;
        case O_MINFREE: ok = number(body, "minFreeSpaceMB", "min-free-mb", optarg); break;
        case O_DRIVE: json_object_set_new(body, "drive", json_string(optarg)); break;
        case O_PRIO: ok = number(body, "priority", "priority", optarg); break;
        default: ok = 0; break;
        }
    }
    if (ok && optind != argc - 1) {
        fprintf(stderr, "dpctl: dp add takes exactly one SERVER (the DP's FQDN)\n");
        ok = 0;
    }
    if (ok) {
        json_object_set_new(body, "serverName", json_string(argv[optind]));
        if (json_array_size(groups) > 0)
            json_object_set(body, "boundaryGroups", groups);
        if (json_array_size(sources) > 0)
            json_object_set_new(body, "pullDP", json_pack("{s:O}", "sources", sources));
    }
    json_decref(groups);
    json_decref(sources);
    return ok;
}

int dpctl_cmd_dp_add(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    if (!parse(argc, argv, body)) {
        json_decref(body);
        return DPCTL_USAGE;
    }
    dpctl_resp r;
    int rc = dpctl_http(ctx, "POST", "/v1/distributionpoints", body, &r);
    json_decref(body);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400) {
        rc = dpctl_refused(&r);
    } else if (ctx->json) {
        dpctl_print_raw(&r);
    } else {
        const char *server = json_string_value(json_object_get(r.json, "serverName"));
        const char *site = json_string_value(json_object_get(r.json, "siteCode"));
        const char *nal = json_string_value(json_object_get(r.json, "nalPath"));
        printf("Added distribution point %s to site %s.\n", server ? server : "?", site ? site : "?");
        printf("  NAL path:       %s\n", nal ? nal : "?");
        printf("  correlation id: %s\n", r.corr);
        printf("Follow the install with: dpctl statmsg watch --site %s\n", site ? site : "PS1");
    }
    dpctl_resp_free(&r);
    return rc;
}
