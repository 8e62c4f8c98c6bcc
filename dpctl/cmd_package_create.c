/* dpctl package create NAME --source DIR [--description TEXT] [--site SITE]:
 * POST /v1/packages. DIR is a directory on the site server, under one of
 * the provider's content source roots; it is sent as given and checked by
 * the API. */
#include <getopt.h>
#include <stdio.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    const char *id = json_string_value(json_object_get(r->json, "packageId"));
    printf("%s: created package '%s' from %s (version 1, Processing).\n", id ? id : "?",
           json_string_value(json_object_get(r->json, "name")),
           json_string_value(json_object_get(r->json, "sourcePath")));
    printf("  correlation id: %s\n", r->corr);
    printf("Follow it with: dpctl package show %s\n", id ? id : "ID");
}

int dpctl_cmd_package_create(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"source", required_argument, NULL, 's'},
                                         {"description", required_argument, NULL, 'd'},
                                         {"site", required_argument, NULL, 'S'},
                                         {NULL, 0, NULL, 0}};
    json_t *body = json_object();
    int c, rc = DPCTL_USAGE;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = c == 's' ? "sourcePath" : c == 'd' ? "description"
                        : c == 'S' ? "siteCode" : NULL;
        if (key == NULL)
            goto out;
        json_object_set_new(body, key, json_string(optarg));
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dpctl: package create takes exactly one NAME\n");
        goto out;
    }
    if (json_object_get(body, "sourcePath") == NULL) {
        fprintf(stderr, "dpctl: package create needs --source DIR\n");
        goto out;
    }
    json_object_set_new(body, "name", json_string(argv[optind]));
    rc = dpctl_call(ctx, "POST", "/v1/packages", body, JSON_OBJECT, print);
out:
    json_decref(body);
    return rc;
}
