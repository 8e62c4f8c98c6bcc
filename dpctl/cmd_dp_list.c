/* dpctl dp list: one line per DP, the columns an administrator scans first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dpctl.h"

static const char *text_or_dash(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : "-";
}

static void print(const dpctl_resp *r)
{
    printf("%-6s %-40s %-4s %-12s %-9s %-3s %-4s %s\n", "DPID", "SERVER", "SITE", "STATE", "CRC",
           "PXE", "PULL", "MAINTENANCE MODE");
    size_t i;
    json_t *dp;
    json_array_foreach(r->json, i, dp) {
        json_t *id = json_object_get(dp, "dpid");
        char dpid[24] = "-";
        if (json_is_integer(id))
            snprintf(dpid, sizeof dpid, "%lld", (long long)json_integer_value(id));
        printf("%-6s %-40s %-4s %-12s %-9s %-3s %-4s %s\n", dpid, text_or_dash(dp, "serverName"),
               text_or_dash(dp, "siteCode"), text_or_dash(dp, "installState"),
               text_or_dash(dp, "crc"),
               json_is_true(json_object_get(dp, "enablePXE")) ? "yes" : "no",
               json_is_object(json_object_get(dp, "pullDP")) ? "yes" : "no",
               json_is_true(json_object_get(dp, "maintenanceMode")) ? "yes" : "no");
    }
    if (json_array_size(r->json) == 0)
        printf("(no distribution points)\n");
}

int dpctl_cmd_dp_list(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"site", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    const char *site = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 's')
            return DPCTL_USAGE;
        site = optarg;
    }
    if (optind != argc) {
        fprintf(stderr, "dpctl: dp list takes no arguments\n");
        return DPCTL_USAGE;
    }
    char path[128] = "/v1/distributionpoints";
    if (site != NULL) {
        char esc[64];
        if (!dpctl_escape(site, esc, sizeof esc)) {
            fprintf(stderr, "dpctl: --site is too long\n");
            return DPCTL_USAGE;
        }
        snprintf(path, sizeof path, "/v1/distributionpoints?site=%s", esc);
    }
    return dpctl_call(ctx, "GET", path, NULL, JSON_ARRAY, print);
}
