/* The HTTP side of dpctl: one libcurl request per command, with the
 * console's context headers (who, from which application and machine) that
 * the provider writes into its log and audit rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "dpctl.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    dpctl_resp *r = ud;
    size_t add = size * n;
    char *nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Copies the value of header line p (len bytes) into out if it is name. */
static void header_value(const char *p, size_t len, const char *name, char *out, size_t out_len)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(p, name, nl) != 0)
        return;
    const char *v = p + nl;
    size_t vl = len - nl;
    while (vl > 0 && (*v == ' ')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, out_len, "%.*s", (int)vl, v);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    dpctl_resp *r = ud;
    size_t len = size * n;
    header_value(p, len, "X-Correlation-Id:", r->corr, sizeof r->corr);
    header_value(p, len, "X-Next-After:", r->next_after, sizeof r->next_after);
    return len;
}

int dpctl_http(const dpctl_ctx *ctx, const char *method, const char *path, json_t *body,
               dpctl_resp *out)
{
    memset(out, 0, sizeof *out);
    char url[2048], hdr[3][320];
    if (snprintf(url, sizeof url, "%s%s", ctx->api, path) >= (int)sizeof url) {
        fprintf(stderr, "dpctl: the request URL is too long\n");
        return DPCTL_USAGE;
    }
    CURL *c = curl_easy_init();
    if (c == NULL) {
        fprintf(stderr, "dpctl: cannot initialise libcurl\n");
        return DPCTL_UNREACHABLE;
    }
    struct curl_slist *h = NULL;
    /* who is asking is the token's user; application and machine are informational */
    snprintf(hdr[0], sizeof hdr[0], "X-Dpf-Application: dpctl");
    snprintf(hdr[1], sizeof hdr[1], "X-Dpf-Machine: %s", ctx->machine);
    snprintf(hdr[2], sizeof hdr[2], "Authorization: Bearer %s", ctx->token);
    for (int i = 0; i < (ctx->token[0] != '\0' ? 3 : 2); i++)
        h = curl_slist_append(h, hdr[i]);
    h = curl_slist_append(h, "Accept: application/json");
    char *text = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    /* https: the server's certificate and host name are always verified */
    char tls_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, tls_err);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ctx->cacert != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, ctx->cacert);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    int ret = DPCTL_OK;
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_SSL_CONNECT_ERROR) {
        fprintf(stderr, "dpctl: the TLS connection to the API at %s failed, nothing was sent: %s%s\n",
                url, *tls_err ? tls_err : curl_easy_strerror(rc),
                rc == CURLE_PEER_FAILED_VERIFICATION
                    ? " (the server's certificate was not verified: give the CA that signed it "
                      "with --cacert FILE or DPFLEET_CA_FILE, and use the host name it was made for)"
                    : "");
        ret = DPCTL_UNREACHABLE;
    } else if (rc != CURLE_OK) {
        fprintf(stderr, "dpctl: cannot reach the API at %s: %s (%s)\n", ctx->api,
                *tls_err ? tls_err : curl_easy_strerror(rc),
                rc == CURLE_GOT_NOTHING && strncmp(ctx->api, "http:", 5) == 0
                    ? "an HTTPS server? then use an https:// URL"
                    : "set --api or DPFLEET_API");
        ret = DPCTL_UNREACHABLE;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->status == 401 && ctx->token[0] == '\0')
            fprintf(stderr, "dpctl: no API token was sent: give --token-file FILE, "
                            "DPFLEET_TOKEN, DPFLEET_TOKEN_FILE or ~/.config/dpfleet/token\n");
        if (out->body != NULL)
            out->json = json_loads(out->body, 0, NULL);
    }
    free(text);
    explicit_bzero(hdr[2], sizeof hdr[2]);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ret;
}

void dpctl_resp_free(dpctl_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

int dpctl_refused(const dpctl_resp *r)
{
    const char *msg = r->json ? json_string_value(json_object_get(r->json, "error")) : NULL;
    const char *field = r->json ? json_string_value(json_object_get(r->json, "field")) : NULL;
    if (msg == NULL)
        msg = r->body && *r->body ? r->body : "(no message)";
    fprintf(stderr, "dpctl: %s (", msg);
    if (field != NULL)
        fprintf(stderr, "field %s, ", field);
    fprintf(stderr, "HTTP %ld", r->status);
    if (r->corr[0] != '\0')
        fprintf(stderr, ", correlation id %s", r->corr);
    fprintf(stderr, ")\n");
    return DPCTL_REFUSED;
}

void dpctl_print_raw(const dpctl_resp *r)
{
    if (r->body != NULL) {
        fputs(r->body, stdout);
        if (r->len == 0 || r->body[r->len - 1] != '\n')
            fputc('\n', stdout);
    }
}

int dpctl_escape(const char *s, char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (n + (plain ? 1 : 3) + 1 > len)
            return 0;
        if (plain) {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    if (len == 0)
        return 0;
    buf[n] = '\0';
    return 1;
}
