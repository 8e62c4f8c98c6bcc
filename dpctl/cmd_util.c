/* What the commands share: the single operand some take, the API path of
 * one DP, and what is done with the API's answer (a refusal reported,
 * --json printed as sent, otherwise the command's own printing), also for
 * a list the API answers a page at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl.h"

#define PAGES_MAX 100000 /* a server that never ends its list must not keep us forever */

int dpctl_one_arg(int argc, char **argv, const char *cmd, const char *what)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "dpctl: %s takes exactly one %s\n", cmd, what);
        return 0;
    }
    return 1;
}

int dpctl_dp_path(const char *server, char *path, size_t len)
{
    char esc[800];
    if (!dpctl_escape(server, esc, sizeof esc) ||
        snprintf(path, len, "/v1/distributionpoints/%s", esc) >= (int)len) {
        fprintf(stderr, "dpctl: the server name is too long\n");
        return 0;
    }
    return 1;
}

int dpctl_call(const dpctl_ctx *ctx, const char *method, const char *path, json_t *body,
               int expect, dpctl_print_fn print)
{
    dpctl_resp r;
    int rc = dpctl_http(ctx, method, path, body, &r);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400 || (expect >= 0 && (r.json == NULL || (int)json_typeof(r.json) != expect)))
        rc = dpctl_refused(&r);
    else if (ctx->json)
        dpctl_print_raw(&r);
    else
        print(&r);
    dpctl_resp_free(&r);
    return rc;
}

/* Fetches every page of path into *all (owned by the caller). */
static int fetch_pages(const dpctl_ctx *ctx, const char *path, json_t **all)
{
    char after[256] = "";
    *all = json_array();
    for (int page = 0; page < PAGES_MAX; page++) {
        char url[2048], esc[800];
        if (!dpctl_escape(after, esc, sizeof esc))
            return DPCTL_USAGE;
        int n = after[0] == '\0' ? snprintf(url, sizeof url, "%s", path)
                                 : snprintf(url, sizeof url, "%s%cafter=%s", path,
                                            strchr(path, '?') ? '&' : '?', esc);
        if (n >= (int)sizeof url) {
            fprintf(stderr, "dpctl: the request URL is too long\n");
            return DPCTL_USAGE;
        }
        dpctl_resp r;
        int rc = dpctl_http(ctx, "GET", url, NULL, &r);
        if (rc != DPCTL_OK)
            return rc;
        if (r.status >= 400 || !json_is_array(r.json)) {
            rc = dpctl_refused(&r);
            dpctl_resp_free(&r);
            return rc;
        }
        json_array_extend(*all, r.json);
        /* the same name twice would loop forever: take it as the end */
        int last = r.next_after[0] == '\0' || strcmp(r.next_after, after) == 0;
        snprintf(after, sizeof after, "%s", r.next_after);
        dpctl_resp_free(&r);
        if (last)
            return DPCTL_OK;
    }
    fprintf(stderr, "dpctl: the API did not end the list after %d pages\n", PAGES_MAX);
    return DPCTL_REFUSED;
}

int dpctl_call_pages(const dpctl_ctx *ctx, const char *path, dpctl_print_fn print)
{
    dpctl_resp all = {0};
    int rc = fetch_pages(ctx, path, &all.json);
    if (rc == DPCTL_OK) {
        if (ctx->json) {
            char *text = json_dumps(all.json, JSON_COMPACT);
            printf("%s\n", text ? text : "[]");
            free(text);
        } else {
            all.status = 200;
            print(&all);
        }
    }
    json_decref(all.json);
    return rc;
}
