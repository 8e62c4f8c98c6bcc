/* What the boundary group commands share: the API path of a group, the
 * options that create and set both take, and how one group is shown. A
 * neighbor is NAME or NAME:MINUTES; only a number after the last ':' is
 * taken as the fallback time, so a group name with ':' in it still works. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd_bg.h"

int dpctl_bg_path(const char *name, char *path, size_t len)
{
    char esc[800];
    if (!dpctl_escape(name, esc, sizeof esc) ||
        snprintf(path, len, "/v1/boundarygroups/%s", esc) >= (int)len) {
        fprintf(stderr, "dpctl: the boundary group name is too long\n");
        return 0;
    }
    return 1;
}

static json_t *neighbor(const char *text)
{
    const char *colon = strrchr(text, ':');
    long long minutes;
    if (colon != NULL && colon != text && dpctl_parse_int(colon + 1, 0, 2147483647LL, &minutes))
        return json_pack("{s:s%, s:I}", "name", text, (size_t)(colon - text), "fallbackMinutes",
                         (json_int_t)minutes);
    return json_pack("{s:s}", "name", text);
}

static json_t *array(json_t *body, const char *key)
{
    json_t *a = json_object_get(body, key);
    if (a == NULL) {
        a = json_array();
        json_object_set_new(body, key, a);
    }
    return a;
}

int dpctl_bg_options(int argc, char **argv, const char *cmd, int for_set, json_t *body,
                     const char **name)
{
    static const struct option opts[] = {{"description", required_argument, NULL, 'd'},
                                         {"site", required_argument, NULL, 'S'},
                                         {"boundary", required_argument, NULL, 'b'},
                                         {"neighbor", required_argument, NULL, 'n'},
                                         {"site-default", no_argument, NULL, 'D'},
                                         {"not-site-default", no_argument, NULL, 'X'},
                                         {"default-fallback-minutes", required_argument, NULL, 'f'},
                                         {"no-boundaries", no_argument, NULL, 'B'},
                                         {"no-neighbors", no_argument, NULL, 'N'},
                                         {NULL, 0, NULL, 0}};
    int c;
    long long v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'S' && for_set) || ((c == 'X' || c == 'B' || c == 'N') && !for_set)) {
            fprintf(stderr, "dpctl: %s does not take that option\n", cmd);
            return 0;
        }
        switch (c) {
        case 'd': json_object_set_new(body, "description", json_string(optarg)); break;
        case 'S': json_object_set_new(body, "siteCode", json_string(optarg)); break;
        case 'b': json_array_append_new(array(body, "boundaries"), json_string(optarg)); break;
        case 'n': json_array_append_new(array(body, "neighbors"), neighbor(optarg)); break;
        case 'D': json_object_set_new(body, "siteDefault", json_true()); break;
        case 'X': json_object_set_new(body, "siteDefault", json_false()); break;
        case 'B': array(body, "boundaries"); break;
        case 'N': array(body, "neighbors"); break;
        case 'f':
            if (!dpctl_parse_int(optarg, 0, 2147483647LL, &v)) {
                fprintf(stderr, "dpctl: --default-fallback-minutes must be a number of minutes\n");
                return 0;
            }
            json_object_set_new(body, "defaultFallbackMinutes", json_integer(v));
            break;
        default: return 0;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dpctl: %s takes exactly one boundary group NAME\n", cmd);
        return 0;
    }
    *name = argv[optind];
    return 1;
}

static void line(const char *label, const char *value)
{
    printf("%-20s %s\n", label, value && *value ? value : "-");
}

void dpctl_bg_print(const dpctl_resp *r)
{
    json_t *g = r->json;
    char buf[320];
    line("Name:", json_string_value(json_object_get(g, "name")));
    line("Site:", json_string_value(json_object_get(g, "siteCode")));
    line("Description:", json_string_value(json_object_get(g, "description")));
    line("Site default:", json_is_true(json_object_get(g, "siteDefault")) ? "yes" : "no");
    snprintf(buf, sizeof buf, "%lld minutes",
             (long long)json_integer_value(json_object_get(g, "defaultFallbackMinutes")));
    line("Default fallback:", buf);
    json_t *b = json_object_get(g, "boundaries");
    if (json_array_size(b) == 0)
        line("Boundaries:", "-");
    for (size_t i = 0; i < json_array_size(b); i++)
        line(i == 0 ? "Boundaries:" : "", json_string_value(json_array_get(b, i)));
    json_t *n = json_object_get(g, "neighbors");
    if (json_array_size(n) == 0)
        line("Neighbors:", "-");
    for (size_t i = 0; i < json_array_size(n); i++) {
        json_t *o = json_array_get(n, i);
        snprintf(buf, sizeof buf, "%s (fallback after %lld minutes)",
                 json_string_value(json_object_get(o, "name")),
                 (long long)json_integer_value(json_object_get(o, "fallbackMinutes")));
        line(i == 0 ? "Neighbors:" : "", buf);
    }
    json_t *m = json_object_get(g, "members");
    printf("\n%-40s %-16s %s\n", "DISTRIBUTION POINT", "MAINTENANCE MODE", "INSTALL STATE");
    for (size_t i = 0; i < json_array_size(m); i++) {
        json_t *o = json_array_get(m, i);
        const char *st = json_string_value(json_object_get(o, "installState"));
        printf("%-40s %-16s %s\n", json_string_value(json_object_get(o, "serverName")),
               json_is_true(json_object_get(o, "maintenanceMode")) ? "yes" : "no",
               st ? st : "-");
    }
    if (json_array_size(m) == 0)
        printf("(no member distribution points)\n");
    if (r->corr[0] != '\0' && json_object_get(g, "correlationId") != NULL)
        printf("\n  correlation id: %s\n", r->corr);
}
