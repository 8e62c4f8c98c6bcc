/* dpctl statmsg list: stored status messages from the API, printed as the
 * source prints them (STATMSG: ID=... ISTR0=...), newest last. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dpctl.h"
#include "statmsg_pb.h"

static int add_arg(char *path, size_t len, const char *name, const char *value)
{
    char esc[256];
    size_t n = strlen(path);
    if (!dpctl_escape(value, esc, sizeof esc))
        return 0;
    int w = snprintf(path + n, len - n, "%c%s=%s", strchr(path, '?') ? '&' : '?', name, esc);
    return w > 0 && (size_t)w < len - n;
}

static void print(const dpctl_resp *r)
{
    size_t i;
    json_t *m;
    json_array_foreach(r->json, i, m)
        dpctl_statmsg_print_json(m);
}

int dpctl_cmd_statmsg_list(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'}, {"site", required_argument, NULL, 's'},
        {"after", required_argument, NULL, 'a'}, {"limit", required_argument, NULL, 'l'},
        {"correlation-id", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    static const char *const names[] = {"id", "site", "after", "limit", "correlationId"};
    static const char keys[] = "isalc";
    char path[1200] = "/v1/statmsgs";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *k = strchr(keys, c);
        if (c == '?' || k == NULL)
            return DPCTL_USAGE;
        if (!add_arg(path, sizeof path, names[k - keys], optarg)) {
            fprintf(stderr, "dpctl: option value too long\n");
            return DPCTL_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dpctl: statmsg list takes no arguments\n");
        return DPCTL_USAGE;
    }
    return dpctl_call(ctx, "GET", path, NULL, JSON_ARRAY, print);
}
