/* dpctl package remove ID --dp SERVER: takes the package off one DP. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    printf("%s: being removed from %s.\n  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "packageId")),
           json_string_value(json_object_get(r->json, "serverName")), r->corr);
}

int dpctl_cmd_package_remove(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"dp", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *server = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'd' || server != NULL) {
            if (c == 'd')
                fprintf(stderr, "dpctl: package remove takes one --dp SERVER\n");
            return DPCTL_USAGE;
        }
        server = optarg;
    }
    if (optind != argc - 1 || server == NULL) {
        fprintf(stderr, "dpctl: package remove takes one package id and one --dp SERVER\n");
        return DPCTL_USAGE;
    }
    char esc[800], suffix[850], path[1100];
    if (!dpctl_escape(server, esc, sizeof esc)) {
        fprintf(stderr, "dpctl: the server name is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(suffix, sizeof suffix, "/distributionpoints/%s", esc);
    if (!dpctl_pkg_path(argv[optind], suffix, path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "DELETE", path, NULL, JSON_OBJECT, print);
}
