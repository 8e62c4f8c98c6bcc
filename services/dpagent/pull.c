/* A pull DP's downloads (the source's PullDP component): one file of a
 * package from its source DPs, in the order distmgr gives (by priority),
 * falling back to the next source when one answers an HTTP error, cannot be
 * reached, or sends bytes that do not verify. libcurl writes the body
 * straight into the partial file as it arrives (never more than the
 * announced size), so memory does not grow with the file; the hash is then
 * checked by reading the file back (dpa_clib_commit). */
#include "pull.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dpf/agent.h>
#include <dpf/util.h>

int dpa_pull_sources_parse(const char *text, dpa_pull_source *out, size_t max, size_t *n,
                           char *err, size_t errlen)
{
    *n = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0)
            break;
        char item[DPF_FQDN_MAX + 300], why[128];
        if (len >= sizeof item || *n == max) {
            snprintf(err, errlen, "source %zu is too long or there are more than %zu sources",
                     *n + 1, max);
            return 0;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += strcspn(p, ",");
        char *eq = strchr(item, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "source '%.64s' is not FQDN=http://host:port", item);
            return 0;
        }
        *eq = '\0';
        const char *url = eq + 1;
        if (!dpf_fqdn_valid(item, why, sizeof why)) {
            snprintf(err, errlen, "source '%.64s' is not a valid FQDN: %s", item, why);
            return 0;
        }
        size_t ul = strlen(url);
        while (ul > 0 && url[ul - 1] == '/')
            ul--;
        int ok = strncmp(url, "http://", 7) == 0 && ul > 7 && ul < sizeof out[0].base;
        for (size_t i = 0; ok && i < ul; i++)
            ok = isgraph((unsigned char)url[i]) && url[i] != '?' && url[i] != '#';
        if (!ok) {
            snprintf(err, errlen, "source %s: '%.64s' is not an http://host:port URL", item, url);
            return 0;
        }
        dpa_pull_source *s = &out[(*n)++];
        for (size_t i = 0; item[i]; i++)
            item[i] = (char)toupper((unsigned char)item[i]);
        snprintf(s->fqdn, sizeof s->fqdn, "%.253s", item);
        snprintf(s->base, sizeof s->base, "%.*s", (int)ul, url);
    }
    if (*n == 0) {
        snprintf(err, errlen, "no source DP given (sources = FQDN=http://host:port,...)");
        return 0;
    }
    return 1;
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

dpf_status dpa_pull_global_init(void)
{
    pthread_once(&g_once, global_init);
    return g_init_rc == CURLE_OK ? DPF_OK : DPF_ERR_IO;
}

/* The URL of f in pkg at base, each path segment escaped. */
static int build_url(CURL *c, const char *base, const char *pkg, const char *rel, char *out,
                     size_t len)
{
    if (!dpf_fmt(out, len, "%s/" DPF_CONTENT_VDIR "/%s", base, pkg))
        return 0;
    size_t used = strlen(out);
    const char *seg = rel;
    while (*seg) {
        size_t sl = strcspn(seg, "/");
        char *esc = curl_easy_escape(c, seg, (int)sl);
        if (esc == NULL)
            return 0;
        int fits = dpf_fmt(out + used, len - used, "/%s", esc);
        used += strlen(out + used);
        curl_free(esc);
        if (!fits)
            return 0;
        seg += sl;
        if (*seg == '/')
            seg++;
    }
    return 1;
}

typedef struct sink {
    int fd;
    int64_t written, limit;
    int too_long, io_error;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    sink *s = arg;
    size_t len = size * nmemb, off = 0;
    if ((int64_t)len > s->limit - s->written) {
        s->too_long = 1;
        return 0; /* aborts the transfer */
    }
    while (off < len) {
        ssize_t n = write(s->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->io_error = errno ? errno : EIO;
            return 0;
        }
        off += (size_t)n;
    }
    s->written += (int64_t)len;
    return len;
}

/* One attempt from one source; 0 when the file is in FileLib, else why. */
static int try_source(const char *lib, const char *pkg, const dpa_clib_file *f,
                      const dpa_pull_source *src, char *url, size_t urllen, char *why,
                      size_t whylen)
{
    char err[512] = "", cerr[CURL_ERROR_SIZE] = "";
    int fd = -1;
    CURL *c = curl_easy_init();
    if (c == NULL || !build_url(c, src->base, pkg, f->path, url, urllen)) {
        snprintf(why, whylen, "cannot build the request");
        curl_easy_cleanup(c);
        return -1;
    }
    if (dpa_clib_partial_open(lib, f->sha, &fd, err, sizeof err) != DPF_OK) {
        snprintf(why, whylen, "%s", err);
        curl_easy_cleanup(c);
        return -1;
    }
    sink s = {fd, 0, f->size, 0, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)DPA_PULL_CONNECT_TIMEOUT_S);
    /* a source that stalls for 30 s is as good as unreachable */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dpfleet-pulldp/" DPF_COMPONENT_VERSION);
    CURLcode cc = curl_easy_perform(c);
    long code = 0, oserr = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_cleanup(c);
    int closed = close(fd);

    int rc = -1;
    if (cc == CURLE_HTTP_RETURNED_ERROR)
        snprintf(why, whylen, "HTTP %ld", code);
    else if (s.too_long)
        snprintf(why, whylen, "sent more than the file's %lld bytes", (long long)f->size);
    else if (s.io_error)
        snprintf(why, whylen, "cannot write the partial file: %s", strerror(s.io_error));
    else if (cc == CURLE_COULDNT_CONNECT)
        snprintf(why, whylen, "cannot connect: %s",
                 oserr ? strerror((int)oserr) : (cerr[0] ? cerr : curl_easy_strerror(cc)));
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, whylen, "timed out");
    else if (cc != CURLE_OK)
        snprintf(why, whylen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
    else if (closed != 0)
        snprintf(why, whylen, "cannot write the partial file: %s", strerror(errno));
    else if (dpa_clib_commit(lib, f->sha, f->size, err, sizeof err) != DPF_OK)
        snprintf(why, whylen, "%s", strstr(err, "SHA-256 mismatch") ? "SHA-256 mismatch"
                                  : strstr(err, "size mismatch") ? "size mismatch" : err);
    else
        rc = 0;
    if (rc != 0)
        dpa_clib_partial_drop(lib, f->sha);
    return rc;
}

dpf_status dpa_pull_file(const char *lib, const char *pkg, const dpa_clib_file *f,
                         const dpa_pull_source *src, size_t n, dpa_pull_log_fn log, void *ctx,
                         char *err, size_t errlen)
{
    char line[1400], why[600], url[2048];
    size_t used = 0;
    if (dpa_pull_global_init() != DPF_OK) {
        snprintf(err, errlen, "libcurl cannot be initialised");
        return DPF_ERR_IO;
    }
    int fits = dpf_fmt(err, errlen, "no source DP holds %s file %s (sha %.16s...): ", pkg,
                       f->path, f->sha);
    used = fits ? strlen(err) : errlen;
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = dpf_mono_us();
        url[0] = '\0';
        if (try_source(lib, pkg, f, &src[i], url, sizeof url, why, sizeof why) == 0) {
            int64_t ms = (dpf_mono_us() - t0) / 1000;
            if (log != NULL) {
                snprintf(line, sizeof line, "PullDP: downloaded %s file %s from %s (%s) in "
                         "%lld ms, %lld bytes, SHA-256 verified", pkg, f->path, src[i].fqdn,
                         url, (long long)ms, (long long)f->size);
                log(ctx, line);
            }
            err[0] = '\0';
            return DPF_OK;
        }
        if (log != NULL) {
            snprintf(line, sizeof line, "PullDP: failed to download %s file %s from %s (%s): %s",
                     pkg, f->path, src[i].fqdn, url, why);
            log(ctx, line);
        }
        if (used < errlen) {
            snprintf(err + used, errlen - used, "%s%s: %s", i ? "; " : "", src[i].fqdn, why);
            used += strlen(err + used);
        }
    }
    return DPF_ERR_NOT_FOUND;
}
