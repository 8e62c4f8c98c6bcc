/* Configuration declared once, as a table: name, type, default, bounds,
 * environment variable and help. Parsing (command line, then environment,
 * then default), validation and --help all come from the table.
 *
 *   static int thread_limit;
 *   static const dpf_option opts[] = {
 *       DPF_OPT_INT("DPUpgradeThreadLimit", "DPFLEET_DP_UPGRADE_THREAD_LIMIT", &thread_limit,
 *                   50, 1, 1000, "workers that install or upgrade DPs at once"),
 *       DPF_OPT_END
 *   };
 *   dpf_config_parse(opts, argc, argv, err, sizeof err)
 *
 * On the command line an option is "--name value" or "--name=value", the name
 * matched case-insensitively. "--help" prints the usage and the caller exits. */
#ifndef DPF_CONFIG_H
#define DPF_CONFIG_H

#include <stddef.h>
#include "status.h"

typedef enum dpf_opt_type {
    DPF_OPT_T_END = 0,
    DPF_OPT_T_INT,    /* target: int*, bounded by min/max */
    DPF_OPT_T_STRING, /* target: char** (owned by the config; freed by dpf_config_free) */
    DPF_OPT_T_BOOL,   /* target: int*; accepts 1/0/true/false/yes/no/on/off */
} dpf_opt_type;

typedef struct dpf_option {
    const char *name;
    const char *env;
    dpf_opt_type type;
    void *target;
    long long def_int;
    const char *def_str;
    long long min, max;
    const char *help;
} dpf_option;

#define DPF_OPT_INT(name, env, target, def, min, max, help) \
    { name, env, DPF_OPT_T_INT, target, def, NULL, min, max, help }
#define DPF_OPT_BOOL(name, env, target, def, help) \
    { name, env, DPF_OPT_T_BOOL, target, def, NULL, 0, 1, help }
#define DPF_OPT_STRING(name, env, target, def, help) \
    { name, env, DPF_OPT_T_STRING, target, 0, def, 0, 0, help }
#define DPF_OPT_END { NULL, NULL, DPF_OPT_T_END, NULL, 0, NULL, 0, 0, NULL }

/* Fills every target from argv, the environment and the defaults.
 * Returns DPF_OK, DPF_ERR_INVALID with a reason in err (unknown option,
 * bad number, out of bounds), or DPF_HELP_SHOWN when --help was given
 * (usage already printed to stdout). Non-option arguments are an error. */
dpf_status dpf_config_parse(const dpf_option *opts, int argc, char **argv,
                            char *err, size_t errlen) DPF_MUSTCHECK;

/* Prints "--name (ENV, default X, min..max): help" for each option. */
void dpf_config_usage(const char *prog, const dpf_option *opts);

/* Frees the strings dpf_config_parse allocated for STRING options. */
void dpf_config_free(const dpf_option *opts);

#endif
