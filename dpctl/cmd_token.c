/* dpctl token create|list|revoke (Full Administrator; POST, GET and DELETE
 * /v1/tokens), and where dpctl finds its own token: --token-file FILE, else
 * DPFLEET_TOKEN, else DPFLEET_TOKEN_FILE, else ~/.config/dpfleet/token. The
 * secret of a new token is printed once, on stdout alone, so it can be
 * redirected into a file; the API never shows it again. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "dpctl.h"

/* The first line of path into ctx->token. 0 after saying why. */
static int read_token_file(dpctl_ctx *ctx, const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "dpctl: cannot read the token file %s (%s): %s\n", path, what,
                strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "dpctl: warning: the token file %s can be read by others; "
                        "chmod 600 it\n", path);
    char line[256] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || line[0] == '\0' || strlen(line) >= sizeof ctx->token) {
        fprintf(stderr, "dpctl: the token file %s (%s) holds no token\n", path, what);
        return 0;
    }
    snprintf(ctx->token, sizeof ctx->token, "%s", line);
    explicit_bzero(line, sizeof line);
    return 1;
}

int dpctl_token_load(dpctl_ctx *ctx, const char *token_file)
{
    ctx->token[0] = '\0';
    if (token_file != NULL && *token_file != '\0')
        return read_token_file(ctx, token_file, "--token-file");
    const char *t = getenv("DPFLEET_TOKEN");
    if (t != NULL && *t != '\0') {
        if (strlen(t) >= sizeof ctx->token) {
            fprintf(stderr, "dpctl: DPFLEET_TOKEN is too long to be a token\n");
            return 0;
        }
        snprintf(ctx->token, sizeof ctx->token, "%s", t);
        return 1;
    }
    const char *f = getenv("DPFLEET_TOKEN_FILE");
    if (f != NULL && *f != '\0')
        return read_token_file(ctx, f, "DPFLEET_TOKEN_FILE");
    const char *home = getenv("HOME");
    char path[1024];
    if (home != NULL && *home != '\0' &&
        snprintf(path, sizeof path, "%s/.config/dpfleet/token", home) < (int)sizeof path &&
        access(path, F_OK) == 0)
        return read_token_file(ctx, path, "the default");
    return 1; /* none: the API answers 401 where one is needed */
}

static void print_created(const dpctl_resp *r)
{
    const char *exp = json_string_value(json_object_get(r->json, "expiresAt"));
    fprintf(stderr, "Token %lld for %s (%s), %s%s.\n"
                    "This is its secret; it is not shown again, keep it now (a file readable "
                    "only by you: chmod 600):\n",
            (long long)json_integer_value(json_object_get(r->json, "id")),
            json_string_value(json_object_get(r->json, "user")),
            json_string_value(json_object_get(r->json, "role")), exp ? "expires " : "no expiry",
            exp ? exp : "");
    printf("%s\n", json_string_value(json_object_get(r->json, "token")));
}

int dpctl_cmd_token_create(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"expires-hours", required_argument, NULL, 'e'},
                                         {NULL, 0, NULL, 0}};
    json_t *body = json_object();
    int c, rc = DPCTL_USAGE;
    long long hours;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'u' || c == 'r') {
            json_object_set_new(body, c == 'u' ? "user" : "role", json_string(optarg));
        } else if (c == 'e' && dpctl_parse_int(optarg, 1, 87600, &hours)) {
            json_object_set_new(body, "expiresInHours", json_integer(hours));
        } else {
            if (c == 'e')
                fprintf(stderr, "dpctl: --expires-hours takes 1 to 87600\n");
            goto out;
        }
    }
    if (optind != argc || !json_object_get(body, "user") || !json_object_get(body, "role")) {
        fprintf(stderr, "dpctl: token create needs --user NAME and --role ROLE\n");
        goto out;
    }
    rc = dpctl_call(ctx, "POST", "/v1/tokens", body, JSON_OBJECT, print_created);
out:
    json_decref(body);
    return rc;
}

static void print_list(const dpctl_resp *r)
{
    printf("%-6s %-28s %-30s %-20s %-24s %-20s %s\n", "ID", "USER", "ROLE", "CREATED",
           "CREATED BY", "EXPIRES", "STATE");
    size_t i;
    json_t *t;
    json_array_foreach(r->json, i, t) {
        const char *exp = json_string_value(json_object_get(t, "expiresAt"));
        const char *state = json_is_true(json_object_get(t, "revoked"))   ? "revoked"
                            : json_is_true(json_object_get(t, "expired")) ? "expired"
                                                                          : "active";
        printf("%-6lld %-28s %-30s %-20s %-24s %-20s %s\n",
               (long long)json_integer_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "user")),
               json_string_value(json_object_get(t, "role")),
               json_string_value(json_object_get(t, "createdAt")),
               json_string_value(json_object_get(t, "createdBy")), exp ? exp : "never", state);
    }
    if (json_array_size(r->json) == 0)
        printf("(no tokens)\n");
}

int dpctl_cmd_token_list(dpctl_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "dpctl: token list takes no arguments\n");
        return DPCTL_USAGE;
    }
    return dpctl_call(ctx, "GET", "/v1/tokens", NULL, JSON_ARRAY, print_list);
}

static void print_revoked(const dpctl_resp *r)
{
    printf("Token %lld %s.\n", (long long)json_integer_value(json_object_get(r->json, "id")),
           json_is_true(json_object_get(r->json, "changed")) ? "revoked" : "was revoked already");
}

int dpctl_cmd_token_revoke(dpctl_ctx *ctx, int argc, char **argv)
{
    long long id;
    if (!dpctl_one_arg(argc, argv, "token revoke", "token ID"))
        return DPCTL_USAGE;
    if (!dpctl_parse_int(argv[1], 1, 999999999999999LL, &id)) {
        fprintf(stderr, "dpctl: token revoke takes a token ID (a number; see dpctl token list)\n");
        return DPCTL_USAGE;
    }
    char path[64];
    snprintf(path, sizeof path, "/v1/tokens/%lld", id);
    return dpctl_call(ctx, "DELETE", path, NULL, JSON_OBJECT, print_revoked);
}
