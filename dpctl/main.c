/* dpctl: the administrator's console on the provider's REST API (and, for
 * "statmsg watch", on the status message stream). Global options may appear
 * anywhere before "--"; the command words select one entry of COMMANDS, so a
 * new command is one line here and one file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include <dpf/log.h>

#include "cmd_bg.h"
#include "cmd_package.h"
#include "cmd_trace.h"
#include "dpctl.h"

static const struct command {
    const char *group; /* "dp" */
    const char *verb;  /* "add"; NULL: the group is the whole command ("trace ID") */
    dpctl_cmd_fn run;
    const char *usage;
} COMMANDS[] = {
    {"dp", "add", dpctl_cmd_dp_add,
     "dp add SERVER --site SITE [--description TEXT] [--boundary-group NAME]... [--pxe]\n"
     "          [--pull-source FQDN[:PRIORITY]]... [--min-free-mb N] [--drive X] [--priority N]\n"
     "          [--validation-interval-hours N]"},
    {"dp", "list", dpctl_cmd_dp_list,
     "dp list [--site SITE] [--state STATE] [--group NAME] [--maintenance on|off] [--page-size N]"},
    {"dp", "show", dpctl_cmd_dp_show, "dp show SERVER"},
    {"dp", "set", dpctl_cmd_dp_set,
     "dp set SERVER [--description TEXT] [--boundary-group NAME]... [--no-boundary-groups]\n"
     "          [--pxe|--no-pxe] [--pull-source FQDN[:PRIORITY]]... [--no-pull] [--min-free-mb N]\n"
     "          [--drive X] [--priority N] [--validation-interval-hours N]"},
    {"dp", "remove", dpctl_cmd_dp_remove, "dp remove SERVER"},
    {"dp", "maintenance", dpctl_cmd_dp_maintenance, "dp maintenance on|off SERVER [--force]"},
    {"dp", "validate", dpctl_cmd_dp_validate, "dp validate SERVER"},
    {"dp", "history", dpctl_cmd_dp_history, "dp history SERVER [--limit N]   (its recent jobs)"},
    {"trace", NULL, dpctl_cmd_trace,
     "trace CORRELATION-ID [--limit N]   (one action's whole story; --json: the API's JSON)"},
    {"site", "reset", dpctl_cmd_site_reset, "site reset SITE"},
    {"package", "create", dpctl_cmd_package_create,
     "package create NAME --source DIR [--description TEXT] [--site SITE]"},
    {"package", "update", dpctl_cmd_package_update, "package update ID"},
    {"package", "list", dpctl_cmd_package_list, "package list"},
    {"package", "show", dpctl_cmd_package_show, "package show ID"},
    {"package", "distribute", dpctl_cmd_package_distribute,
     "package distribute ID [--dp SERVER]... [--group NAME]..."},
    {"package", "redistribute", dpctl_cmd_package_redistribute,
     "package redistribute ID --dp SERVER..."},
    {"package", "remove", dpctl_cmd_package_remove, "package remove ID --dp SERVER"},
    {"package", "delete", dpctl_cmd_package_delete, "package delete ID"},
    {"boundarygroup", "create", dpctl_cmd_bg_create,
     "boundarygroup create NAME [--description TEXT] [--site SITE] [--boundary SUBNET|FIRST-LAST]...\n"
     "          [--neighbor NAME[:MINUTES]]... [--site-default] [--default-fallback-minutes N]"},
    {"boundarygroup", "list", dpctl_cmd_bg_list, "boundarygroup list"},
    {"boundarygroup", "show", dpctl_cmd_bg_show, "boundarygroup show NAME"},
    {"boundarygroup", "set", dpctl_cmd_bg_set,
     "boundarygroup set NAME [--description TEXT] [--boundary X]... [--no-boundaries]\n"
     "          [--neighbor NAME[:MINUTES]]... [--no-neighbors] [--site-default]\n"
     "          [--default-fallback-minutes N]   (--boundary/--neighbor replace the set)"},
    {"boundarygroup", "delete", dpctl_cmd_bg_delete, "boundarygroup delete NAME"},
    {"content", "locate", dpctl_cmd_content_locate,
     "content locate PACKAGE --client ADDRESS [--waited-minutes M]"},
    {"statmsg", "list", dpctl_cmd_statmsg_list,
     "statmsg list [--id N] [--site SITE] [--after RECORD] [--limit N] [--correlation-id ID]"},
    {"token", "create", dpctl_cmd_token_create,
     "token create --user NAME --role ROLE [--expires-hours N]   (the secret is shown once)"},
    {"token", "list", dpctl_cmd_token_list, "token list"},
    {"token", "revoke", dpctl_cmd_token_revoke, "token revoke ID"},
    {"statmsg", "watch", dpctl_cmd_statmsg_watch,
     "statmsg watch [--site SITE] [--id N] [--all] [--nats URL]   (NATS_URL)"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *to)
{
    fprintf(to, "Usage: dpctl [--api URL] [--cacert FILE] [--token-file FILE] [--json] COMMAND "
                "...\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, "  dpctl %s\n", COMMANDS[i].usage);
    fprintf(to, "\n  --api URL   the provider's API (DPFLEET_API, default http://127.0.0.1:8080)\n"
                "  --cacert FILE  CA certificate(s) to trust for an https API (DPFLEET_CA_FILE);\n"
                "              the server's certificate and host name are always verified\n"
                "  --token-file FILE  the API token (else DPFLEET_TOKEN, DPFLEET_TOKEN_FILE,\n"
                "              ~/.config/dpfleet/token)\n"
                "  --json      print the API's JSON instead of text\n"
                "Exit status: 0 done, 1 refused by the API, 2 bad command line, 3 API or NATS "
                "not reachable.\n");
}

/* Takes --api/--cacert/--token-file/--json/--help out of argv (they may appear anywhere before
 * "--"), leaving the command words and the command's own options. */
static int take_globals(int *argc, char **argv, const char **api, const char **cacert,
                        const char **token_file, int *json, int *help)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--json") == 0) {
            *json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
        } else if (strncmp(a, "--cacert=", 9) == 0) {
            *cacert = a + 9;
        } else if (strcmp(a, "--cacert") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "dpctl: --cacert needs a file\n");
                return 0;
            }
            *cacert = argv[++i];
        } else if (strncmp(a, "--token-file=", 13) == 0) {
            *token_file = a + 13;
        } else if (strcmp(a, "--token-file") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "dpctl: --token-file needs a file\n");
                return 0;
            }
            *token_file = argv[++i];
        } else if (strncmp(a, "--api=", 6) == 0) {
            *api = a + 6;
        } else if (strcmp(a, "--api") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "dpctl: --api needs a URL\n");
                return 0;
            }
            *api = argv[++i];
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 1;
}

static void fill_identity(dpctl_ctx *ctx)
{
    if (gethostname(ctx->machine, sizeof ctx->machine - 1) != 0)
        snprintf(ctx->machine, sizeof ctx->machine, "unknown");
    ctx->machine[sizeof ctx->machine - 1] = '\0';
}

int main(int argc, char **argv)
{
    const char *api = getenv("DPFLEET_API");
    int json = 0, help = 0;
    dpf_log_init("DPCTL");
    dpf_log_set_level(DPF_LOG_WARN);
    const char *cacert = getenv("DPFLEET_CA_FILE");
    const char *token_file = NULL;
    if (!take_globals(&argc, argv, &api, &cacert, &token_file, &json, &help))
        return DPCTL_USAGE;
    if (cacert != NULL && *cacert == '\0')
        cacert = NULL;
    if (cacert != NULL && access(cacert, R_OK) != 0) {
        fprintf(stderr, "dpctl: cannot read the CA file %s (--cacert or DPFLEET_CA_FILE): %s\n",
                cacert, strerror(errno));
        return DPCTL_USAGE;
    }
    const struct command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS && cmd == NULL && argc >= 2; i++) {
        if (strcmp(COMMANDS[i].group, argv[1]) == 0 && COMMANDS[i].verb == NULL)
            cmd = &COMMANDS[i];
    }
    if (cmd == NULL && argc < 3) {
        usage(help ? stdout : stderr);
        return help ? DPCTL_OK : DPCTL_USAGE;
    }
    for (size_t i = 0; i < NCOMMANDS && cmd == NULL; i++) {
        if (strcmp(COMMANDS[i].group, argv[1]) == 0 && COMMANDS[i].verb != NULL &&
            strcmp(COMMANDS[i].verb, argv[2]) == 0)
            cmd = &COMMANDS[i];
    }
    if (cmd == NULL) {
        fprintf(stderr, "dpctl: unknown command '%s %s'\n\n", argv[1], argv[2]);
        usage(stderr);
        return DPCTL_USAGE;
    }
    if (help) {
        printf("Usage: dpctl %s\n", cmd->usage);
        return DPCTL_OK;
    }

    char base[1024];
    snprintf(base, sizeof base, "%s", api && *api ? api : "http://127.0.0.1:8080");
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    dpctl_ctx ctx = {.api = base, .cacert = cacert, .json = json};
    fill_identity(&ctx);
    if (strcmp(cmd->group, "statmsg") != 0 || strcmp(cmd->verb, "watch") != 0) {
        if (!dpctl_token_load(&ctx, token_file))
            return DPCTL_USAGE;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    int words = cmd->verb != NULL ? 2 : 1; /* argv[0] of the command is its last word */
    int rc = cmd->run(&ctx, argc - words, argv + words);
    curl_global_cleanup();
    if (rc == DPCTL_USAGE)
        fprintf(stderr, "usage: dpctl %s\n", cmd->usage);
    return rc;
}
