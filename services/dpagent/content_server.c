/* The host's content server, libmicrohttpd with its own polling thread.
 * Clients download package content from here (the source's IIS virtual
 * directories). Security rests on three checks, in order: our own URL
 * unescaping refuses an encoded NUL and encoded separators, the relative
 * part must be a plain path (dpa_http_rel_safe), and the file opened is
 * either named by a package manifest's hash (package vdirs: the URL never
 * becomes a path) or, for the other vdirs, its real path must still lie in
 * the virtual directory's real path (so a symbolic link cannot lead out). */
#include "content_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dpf/agent.h>
#include "pkglib.h"

#define MAX_VDIRS 16
#define BAD_URL_MARK "\x01"

struct dpa_http {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t mu; /* guards the table: steps change it while requests read it */
    size_t n;
    char *names[MAX_VDIRS];
    char *dirs[MAX_VDIRS];
    int pkg[MAX_VDIRS]; /* 1: a package vdir, dirs[i] is the content library */
};

int dpa_http_rel_safe(const char *rel)
{
    if (rel == NULL || *rel == '\0')
        return 0;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (c == '\0')
                return 1;
            seg = p + 1;
        } else if (c < 0x20 || c == 0x7f || c == '\\') {
            return 0;
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* MHD's own unescaping would let "%00" silently cut the path short; ours
 * turns any NUL or malformed escape into a marker the handler refuses. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
        int ch = hi * 16 + lo;
        /* an encoded separator would hide a segment boundary from the
         * path checks: "%2F" and "%5C" are refused, never decoded */
        if (hi < 0 || lo < 0 || ch == 0 || ch == '/' || ch == '\\') {
            strcpy(s, BAD_URL_MARK);
            return 1;
        }
        *w++ = (char)ch;
        r += 2;
    }
    *w = '\0';
    return (size_t)(w - s);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Opens <vdir dir>/<rel> if it is a regular file inside dir; -1 otherwise. */
static int open_in(const char *dir, const char *rel, struct stat *st)
{
    char path[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path)
        return -1;
    if (realpath(dir, real_dir) == NULL || realpath(path, real_file) == NULL)
        return -1;
    size_t dl = strlen(real_dir);
    if (strncmp(real_file, real_dir, dl) != 0 || real_file[dl] != '/')
        return -1;
    int fd = open(real_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

int dpa_http_is_pkg_vdir(const char *name)
{
    return strcmp(name, DPF_CONTENT_VDIR) == 0 || strcmp(name, "NOCERT_" DPF_CONTENT_VDIR) == 0;
}

/* Opens the file "<pkg>/<path>" (rel) of the package version PkgLib names
 * in the content library lib; -1 if the host does not hold it. The FileLib
 * path comes from the manifest's checked hash, never from the URL. */
static int open_pkg(const char *lib, const char *rel, struct stat *st)
{
    char pkg[9], file[PATH_MAX];
    const char *slash = strchr(rel, '/');
    int64_t size = 0;
    if (slash == NULL || slash - rel != 8 || slash[1] == '\0')
        return -1;
    for (int i = 0; i < 8; i++)
        pkg[i] = (char)toupper((unsigned char)rel[i]);
    pkg[8] = '\0';
    if (!dpa_clib_pkg_valid(pkg, NULL, 0) ||
        dpa_pkglib_lookup(lib, pkg, slash + 1, file, sizeof file, &size) != DPF_OK)
        return -1;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || (int64_t)st->st_size != size) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    dpa_http *h = cls;
    (void)version;
    (void)upload;
    (void)con_cls;
    if (*upload_size != 0)
        return reply_text(c, MHD_HTTP_BAD_REQUEST, "request bodies are not accepted\n");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only\n");
    if (url[0] != '/' || strcmp(url, BAD_URL_MARK) == 0)
        return reply_text(c, MHD_HTTP_BAD_REQUEST, "bad URL\n");

    const char *vdir = url + 1;
    const char *slash = strchr(vdir, '/');
    if (slash == NULL)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    const char *rel = slash + 1;
    if (!dpa_http_rel_safe(rel))
        return reply_text(c, MHD_HTTP_BAD_REQUEST, "bad path\n");

    int fd = -1;
    struct stat st;
    size_t vlen = (size_t)(slash - vdir);
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n; i++) {
        if (strlen(h->names[i]) == vlen && strncmp(h->names[i], vdir, vlen) == 0) {
            fd = h->pkg[i] ? open_pkg(h->dirs[i], rel, &st) : open_in(h->dirs[i], rel, &st);
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
    if (fd < 0)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");

    struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (r == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

dpf_status dpa_http_start(const char *addr, int port, dpa_http **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (port < 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s:%d' is not an IPv4 address and port", addr, port);
        return DPF_ERR_INVALID;
    }
    dpa_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_init(&h->mu, NULL);
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL,
                                 handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                 MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (h->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d", addr, port);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return DPF_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    *out = h;
    return DPF_OK;
}

static void clear_table(dpa_http *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->names[i]);
        free(h->dirs[i]);
    }
    h->n = 0;
}

void dpa_http_stop(dpa_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->daemon);
    clear_table(h);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int dpa_http_port(const dpa_http *h)
{
    return h ? h->port : 0;
}

dpf_status dpa_http_set_vdirs(dpa_http *h, const char *const *names, const char *const *dirs,
                              size_t n)
{
    if (n > MAX_VDIRS)
        return DPF_ERR_INVALID;
    char *nn[MAX_VDIRS] = {0}, *nd[MAX_VDIRS] = {0};
    for (size_t i = 0; i < n; i++) {
        nn[i] = strdup(names[i]);
        nd[i] = strdup(dirs[i]);
        if (nn[i] == NULL || nd[i] == NULL) {
            for (size_t j = 0; j <= i; j++) {
                free(nn[j]);
                free(nd[j]);
            }
            return DPF_ERR_NOMEM;
        }
    }
    pthread_mutex_lock(&h->mu);
    clear_table(h);
    for (size_t i = 0; i < n; i++) {
        h->names[i] = nn[i];
        h->dirs[i] = nd[i];
        h->pkg[i] = dpa_http_is_pkg_vdir(nn[i]);
    }
    h->n = n;
    pthread_mutex_unlock(&h->mu);
    return DPF_OK;
}
