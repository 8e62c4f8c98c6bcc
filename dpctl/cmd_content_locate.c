/* dpctl content locate PACKAGE --client ADDRESS [--waited-minutes M]:
 * GET /v1/contentlocation, what the management point would tell a client
 * at ADDRESS: one line per DP in the order the client tries them, or the
 * reason it gets none. */
#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "cmd_bg.h"

static void print(const dpctl_resp *r)
{
    json_t *o = r->json, *groups = json_object_get(o, "boundaryGroups");
    printf("Package %s for client %s (waited %lld minutes)\n",
           json_string_value(json_object_get(o, "packageId")),
           json_string_value(json_object_get(o, "clientAddress")),
           (long long)json_integer_value(json_object_get(o, "waitedMinutes")));
    printf("Current boundary groups: ");
    for (size_t i = 0; i < json_array_size(groups); i++)
        printf("%s%s", i ? ", " : "", json_string_value(json_array_get(groups, i)));
    printf("%s\n\n", json_array_size(groups) == 0 ? "(none)" : "");
    json_t *locs = json_object_get(o, "locations");
    if (json_array_size(locs) == 0) {
        printf("No location: %s\n", json_string_value(json_object_get(o, "reason")));
        return;
    }
    printf("%-3s %-36s %-12s %-28s %s\n", "#", "DISTRIBUTION POINT", "SOURCE", "BOUNDARY GROUP",
           "URL");
    size_t i;
    json_t *l;
    json_array_foreach(locs, i, l) {
        printf("%-3zu %-36s %-12s %-28s %s\n", i + 1,
               json_string_value(json_object_get(l, "serverName")),
               json_string_value(json_object_get(l, "source")),
               json_string_value(json_object_get(l, "boundaryGroup")),
               json_string_value(json_object_get(l, "url")));
    }
}

int dpctl_cmd_content_locate(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"client", required_argument, NULL, 'c'},
                                         {"waited-minutes", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *client = NULL, *waited = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            client = optarg;
        else if (c == 'w')
            waited = optarg;
        else
            return DPCTL_USAGE;
    }
    if (optind != argc - 1 || client == NULL) {
        fprintf(stderr, "dpctl: content locate takes one PACKAGE and --client ADDRESS\n");
        return DPCTL_USAGE;
    }
    char pkg[200], addr[200], wait[64], path[700];
    if (!dpctl_escape(argv[optind], pkg, sizeof pkg) || !dpctl_escape(client, addr, sizeof addr) ||
        !dpctl_escape(waited ? waited : "0", wait, sizeof wait)) {
        fprintf(stderr, "dpctl: the package id, address or minutes are too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "/v1/contentlocation?packageId=%s&clientAddress=%s&waitedMinutes=%s",
             pkg, addr, wait);
    return dpctl_call(ctx, "GET", path, NULL, JSON_OBJECT, print);
}
