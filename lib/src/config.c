/* Table-driven configuration: every option is declared once (config.h) and
 * this file derives parsing, validation and --help from the table. Values are
 * applied default first, then environment, then command line, so the last
 * writer is the one with the highest precedence. */
#include "dpf/config.h"
#include "dpf/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* where: "" for the command line, otherwise " (from ENV)" so the reader knows
 * which value to fix. */
static dpf_status apply(const dpf_option *o, const char *value, const char *where,
                        char *err, size_t errlen)
{
    switch (o->type) {
    case DPF_OPT_T_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (*value == '\0' || end == value || *end != '\0' || errno == ERANGE) {
            dpf_fmt(err, errlen, "%s: '%s' is not a number%s", o->name, value, where);
            return DPF_ERR_INVALID;
        }
        if (v < o->min) {
            dpf_fmt(err, errlen, "%s: %lld is below the minimum %lld%s", o->name, v, o->min, where);
            return DPF_ERR_INVALID;
        }
        if (v > o->max) {
            dpf_fmt(err, errlen, "%s: %lld is above the maximum %lld%s", o->name, v, o->max, where);
            return DPF_ERR_INVALID;
        }
        *(int *)o->target = (int)v;
        return DPF_OK;
    }
    case DPF_OPT_T_BOOL: {
        int b;
        if (!parse_bool(value, &b)) {
            dpf_fmt(err, errlen, "%s: '%s' is not a boolean (1/0/true/false/yes/no/on/off)%s",
                    o->name, value, where);
            return DPF_ERR_INVALID;
        }
        *(int *)o->target = b;
        return DPF_OK;
    }
    case DPF_OPT_T_STRING: {
        char *copy = strdup(value);
        if (copy == NULL) {
            dpf_fmt(err, errlen, "%s: out of memory", o->name);
            return DPF_ERR_NOMEM;
        }
        char **t = (char **)o->target;
        free(*t);
        *t = copy;
        return DPF_OK;
    }
    case DPF_OPT_T_END:
        break;
    }
    dpf_fmt(err, errlen, "%s: option has no type", o->name ? o->name : "?");
    return DPF_ERR_INVALID;
}

static dpf_status apply_default(const dpf_option *o, char *err, size_t errlen)
{
    switch (o->type) {
    case DPF_OPT_T_INT:
    case DPF_OPT_T_BOOL:
        *(int *)o->target = (int)o->def_int;
        return DPF_OK;
    case DPF_OPT_T_STRING:
        /* the target starts out NULL (static) or from an earlier parse */
        *(char **)o->target = NULL;
        if (o->def_str == NULL)
            return DPF_OK;
        return apply(o, o->def_str, "", err, errlen);
    case DPF_OPT_T_END:
        break;
    }
    return DPF_ERR_INVALID;
}

static const dpf_option *find_opt(const dpf_option *opts, const char *name, size_t len)
{
    for (const dpf_option *o = opts; o->type != DPF_OPT_T_END; o++) {
        if (strlen(o->name) == len && strncasecmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

static dpf_status parse_argv(const dpf_option *opts, int argc, char **argv,
                             char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            dpf_fmt(err, errlen, "unexpected argument '%s' (options are --name value)", arg);
            return DPF_ERR_INVALID;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const dpf_option *o = find_opt(opts, name, nlen);
        if (o == NULL) {
            dpf_fmt(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen, name);
            return DPF_ERR_INVALID;
        }
        const char *value;
        if (eq != NULL) {
            value = eq + 1;
        } else if (o->type == DPF_OPT_T_BOOL) {
            /* "--Flag" alone means on; "--Flag no" is also accepted */
            int b;
            if (i + 1 < argc && parse_bool(argv[i + 1], &b))
                value = argv[++i];
            else
                value = "1";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            dpf_fmt(err, errlen, "%s: missing value after --%s", o->name, o->name);
            return DPF_ERR_INVALID;
        }
        dpf_status s = apply(o, value, "", err, errlen);
        if (s != DPF_OK)
            return s;
    }
    return DPF_OK;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

dpf_status dpf_config_parse(const dpf_option *opts, int argc, char **argv,
                            char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (opts == NULL) {
        dpf_fmt(err, errlen, "no option table");
        return DPF_ERR_INVALID;
    }
    if (wants_help(argc, argv)) {
        dpf_config_usage(argc > 0 ? argv[0] : "dpfleet", opts);
        return DPF_HELP_SHOWN;
    }

    dpf_status s = DPF_OK;
    for (const dpf_option *o = opts; o->type != DPF_OPT_T_END && s == DPF_OK; o++)
        s = apply_default(o, err, errlen);

    for (const dpf_option *o = opts; o->type != DPF_OPT_T_END && s == DPF_OK; o++) {
        const char *v = o->env ? getenv(o->env) : NULL;
        if (v == NULL)
            continue;
        char where[128];
        snprintf(where, sizeof where, " (from %s)", o->env);
        s = apply(o, v, where, err, errlen);
    }

    if (s == DPF_OK)
        s = parse_argv(opts, argc, argv, err, errlen);
    if (s != DPF_OK)
        dpf_config_free(opts);
    return s;
}

void dpf_config_usage(const char *prog, const dpf_option *opts)
{
    printf("Usage: %s [--option value | --option=value]...\n"
           "Each option may also come from its environment variable; the command line wins.\n\n",
           prog ? prog : "dpfleet");
    for (const dpf_option *o = opts; o->type != DPF_OPT_T_END; o++) {
        const char *env = o->env ? o->env : "no env";
        switch (o->type) {
        case DPF_OPT_T_INT:
            printf("  --%s (%s, default %lld, %lld..%lld): %s\n", o->name, env, o->def_int,
                   o->min, o->max, o->help ? o->help : "");
            break;
        case DPF_OPT_T_BOOL:
            printf("  --%s (%s, default %s, true|false): %s\n", o->name, env,
                   o->def_int ? "true" : "false", o->help ? o->help : "");
            break;
        case DPF_OPT_T_STRING:
            printf("  --%s (%s, default \"%s\"): %s\n", o->name, env,
                   o->def_str ? o->def_str : "", o->help ? o->help : "");
            break;
        case DPF_OPT_T_END:
            break;
        }
    }
    printf("  --help: print this text\n");
}

void dpf_config_free(const dpf_option *opts)
{
    if (opts == NULL)
        return;
    for (const dpf_option *o = opts; o->type != DPF_OPT_T_END; o++) {
        if (o->type == DPF_OPT_T_STRING && o->target != NULL) {
            char **t = (char **)o->target;
            free(*t);
            *t = NULL;
        }
    }
}
