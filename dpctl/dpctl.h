/* dpctl, the administrator's console: private header shared by main.c (the
 * command table), the HTTP client (http.c) and the commands (cmd_*.c). */
#ifndef DPCTL_H
#define DPCTL_H

#include <stddef.h>
#include <jansson.h>

/* Exit codes. */
enum {
    DPCTL_OK = 0,
    DPCTL_REFUSED = 1,  /* the API answered with an error (4xx/5xx) */
    DPCTL_USAGE = 2,    /* bad command line */
    DPCTL_UNREACHABLE = 3, /* no answer from the API or NATS */
};

typedef struct dpctl_ctx {
    const char *api;   /* base URL, no trailing '/' (borrowed) */
    const char *cacert; /* --cacert / DPFLEET_CA_FILE: CA file to trust for https (borrowed);
                         * NULL: the system's CAs. The certificate is always verified. */
    int json;          /* --json: print the API's JSON as is */
    char machine[256]; /* X-Dpf-Machine (informational) */
    char token[128];   /* the API token's secret, "" if none (dpctl_token_load) */
} dpctl_ctx;

/* One command: argv[0] is the last command word ("add"); options follow.
 * Returns an exit code. */
typedef int (*dpctl_cmd_fn)(dpctl_ctx *ctx, int argc, char **argv);

/* An API answer. json is NULL if the body was not JSON. */
typedef struct dpctl_resp {
    long status;
    char *body;        /* owned, NUL-terminated */
    size_t len;
    char corr[128];    /* X-Correlation-Id */
    char next_after[256]; /* X-Next-After of a paged list, "" on its last page */
    json_t *json;      /* owned */
} dpctl_resp;

/* Sends method path (with query) and body (borrowed; NULL for none).
 * DPCTL_OK when an answer came (whatever its status), else
 * DPCTL_UNREACHABLE with the reason printed. */
int dpctl_http(const dpctl_ctx *ctx, const char *method, const char *path, json_t *body,
               dpctl_resp *out);
void dpctl_resp_free(dpctl_resp *r);

/* For a 4xx/5xx answer: prints "dpctl: <error> (field ..., HTTP n,
 * correlation id ...)" to stderr and returns DPCTL_REFUSED. */
int dpctl_refused(const dpctl_resp *r);

/* Prints the body as the API sent it (for --json). */
void dpctl_print_raw(const dpctl_resp *r);

/* Percent-encodes s for a URL path segment or query value into buf. 0 if short. */
int dpctl_escape(const char *s, char *buf, size_t len);

/* cmd_util.c: what the commands share. */

/* For a command whose one operand is argv[1] (not an option): 1, or 0
 * after printing "dpctl: <cmd> takes exactly one <what>". */
int dpctl_one_arg(int argc, char **argv, const char *cmd, const char *what);

/* "/v1/distributionpoints/<server, percent-encoded>" into path (len
 * bytes, 900 are enough): 1, or 0 after printing that it is too long. */
int dpctl_dp_path(const char *server, char *path, size_t len);

/* Prints an answer for the administrator; r and its JSON are borrowed. */
typedef void (*dpctl_print_fn)(const dpctl_resp *r);

/* Sends method path with body (borrowed; NULL for none) and deals with the
 * answer: refused (dpctl_refused) when its status is 400 or more or its
 * JSON is not of type expect (JSON_OBJECT, JSON_ARRAY; -1: any); with
 * --json printed as sent; otherwise handed to print. Returns the exit code. */
int dpctl_call(const dpctl_ctx *ctx, const char *method, const char *path, json_t *body,
               int expect, dpctl_print_fn print);

/* GET of a list the API answers a page at a time (X-Next-After): follows
 * the pages to the end and prints them as one answer, a JSON array (with
 * --json, compact; otherwise handed to print). path may carry a query.
 * Returns the exit code; a refused page stops it. */
int dpctl_call_pages(const dpctl_ctx *ctx, const char *path, dpctl_print_fn print);

/* Commands (one file each). */
int dpctl_cmd_dp_add(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_list(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_show(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_set(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_remove(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_maintenance(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_dp_validate(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_site_reset(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_statmsg_list(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_statmsg_watch(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_token_create(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_token_list(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_token_revoke(dpctl_ctx *ctx, int argc, char **argv);

/* Finds the API token: token_file (--token-file, may be NULL), else
 * DPFLEET_TOKEN, else DPFLEET_TOKEN_FILE, else ~/.config/dpfleet/token (if
 * it exists). 1 (ctx->token set, or "" when there is none), 0 after saying
 * why a named file cannot be used. */
int dpctl_token_load(dpctl_ctx *ctx, const char *token_file);

#endif
