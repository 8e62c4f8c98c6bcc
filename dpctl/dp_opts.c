/* The DP property options shared by "dp add" and "dp set": each given
 * option becomes one field of the JSON body; the API validates the values.
 * --no-pxe, --no-pull and --no-boundary-groups turn a property off. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "dp_opts.h"

enum { O_SITE = 1, O_DESC, O_GROUP, O_PXE, O_PULL, O_MINFREE, O_DRIVE, O_PRIO, O_NOPXE, O_NOPULL,
       O_NOGROUPS, O_VALIDATION };

static const struct option OPTS[] = {
    {"site", required_argument, NULL, O_SITE},
    {"description", required_argument, NULL, O_DESC},
    {"boundary-group", required_argument, NULL, O_GROUP},
    {"pxe", no_argument, NULL, O_PXE},
    {"pull-source", required_argument, NULL, O_PULL},
    {"min-free-mb", required_argument, NULL, O_MINFREE},
    {"drive", required_argument, NULL, O_DRIVE},
    {"priority", required_argument, NULL, O_PRIO},
    {"no-pxe", no_argument, NULL, O_NOPXE},
    {"no-pull", no_argument, NULL, O_NOPULL},
    {"no-boundary-groups", no_argument, NULL, O_NOGROUPS},
    {"validation-interval-hours", required_argument, NULL, O_VALIDATION},
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

int dpctl_dp_opts_parse(int argc, char **argv, int with_site, json_t *body)
{
    json_t *groups = json_array(), *sources = json_array();
    int ok = 1, c, no_groups = 0, no_pull = 0;
    optind = 0;
    opterr = 1;
    while (ok && (c = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        switch (c) {
        case O_SITE:
            if (!with_site) {
                fprintf(stderr, "dpctl: a DP's site cannot be changed; remove it and add it again\n");
                ok = 0;
                break;
            }
            json_object_set_new(body, "siteCode", json_string(optarg));
            break;
        case O_DESC: json_object_set_new(body, "description", json_string(optarg)); break;
        case O_GROUP: json_array_append_new(groups, json_string(optarg)); break;
        case O_PXE: json_object_set_new(body, "enablePXE", json_true()); break;
        case O_PULL: ok = add_source(sources, optarg); break;
        case O_MINFREE: ok = number(body, "minFreeSpaceMB", "min-free-mb", optarg); break;
        case O_DRIVE: json_object_set_new(body, "drive", json_string(optarg)); break;
        case O_PRIO: ok = number(body, "priority", "priority", optarg); break;
        case O_NOPXE: json_object_set_new(body, "enablePXE", json_false()); break;
        case O_NOPULL: no_pull = 1; break;
        case O_NOGROUPS: no_groups = 1; break;
        case O_VALIDATION:
            ok = number(body, "contentValidationIntervalHours", "validation-interval-hours", optarg);
            break;
        default: ok = 0; break;
        }
    }
    if (ok && optind != argc - 1) {
        fprintf(stderr, "dpctl: give exactly one SERVER (the DP's FQDN)\n");
        ok = 0;
    }
    if (ok) {
        json_object_set_new(body, "serverName", json_string(argv[optind]));
        if (json_array_size(groups) > 0 || no_groups)
            json_object_set(body, "boundaryGroups", groups);
        if (json_array_size(sources) > 0)
            json_object_set_new(body, "pullDP", json_pack("{s:O}", "sources", sources));
        else if (no_pull)
            json_object_set_new(body, "pullDP", json_null());
    }
    json_decref(groups);
    json_decref(sources);
    return ok;
}

