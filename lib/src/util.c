/* Small helpers every service needs: ids, clocks, this host's name, whole-file
 * reads, a stop flag for SIGINT/SIGTERM, whole-integer parsing, and a
 * snprintf that reports truncation. */
#include "dpf/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

void dpf_uuid(char out[37])
{
    uuid_t u;
    uuid_generate_random(u); /* getrandom(2) underneath */
    uuid_unparse_lower(u, out);
}

int64_t dpf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dpf_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char g_system_name[256];
static pthread_once_t g_system_once = PTHREAD_ONCE_INIT;

static void init_system_name(void)
{
    const char *env = getenv("DPFLEET_SYSTEM_NAME");
    if (env != NULL && *env != '\0') {
        snprintf(g_system_name, sizeof g_system_name, "%s", env);
    } else if (gethostname(g_system_name, sizeof g_system_name - 1) != 0) {
        snprintf(g_system_name, sizeof g_system_name, "localhost");
    }
    g_system_name[sizeof g_system_name - 1] = '\0';
    /* the source prints site systems upper-cased: PS1SITE.CONTOSO.COM */
    for (char *p = g_system_name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

const char *dpf_system_name(void)
{
    pthread_once(&g_system_once, init_system_name);
    return g_system_name;
}

dpf_status dpf_read_file(const char *path, char **data, size_t *len)
{
    if (path == NULL || data == NULL)
        return DPF_ERR_INVALID;
    *data = NULL;
    if (len != NULL)
        *len = 0;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? DPF_ERR_NOT_FOUND : DPF_ERR_IO;

    dpf_status st = DPF_OK;
    size_t cap = 4096, used = 0;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        cap = (size_t)sb.st_size + 1;
    char *buf = malloc(cap);
    if (buf == NULL) {
        st = DPF_ERR_NOMEM;
        goto cleanup;
    }
    /* read to EOF rather than trusting st_size: /proc files report 0 and a
     * file may grow while we read it */
    for (;;) {
        if (used + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                st = DPF_ERR_NOMEM;
                goto cleanup;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            st = DPF_ERR_IO;
            goto cleanup;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    *data = buf;
    buf = NULL;
    if (len != NULL)
        *len = used;

cleanup:
    free(buf);
    close(fd);
    return st;
}

/* Set by the signal handler on the main thread, read by every worker: a
 * volatile sig_atomic_t is safe only within one thread (ThreadSanitizer
 * reported it), a lock-free atomic_int is safe for both. */
static atomic_int g_stopping;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free for a signal handler");

static void on_stop_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stopping, 1);
}

void dpf_handle_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking poll() should return so loops see the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int dpf_stopping(void)
{
    return atomic_load(&g_stopping) != 0;
}

int dpf_parse_int(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    if (text == NULL || *text == '\0')
        return 0;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

void dpf_textbuf_printf(dpf_textbuf *t, const char *fmt, ...)
{
    if (t == NULL || t->buf == NULL || t->cap == 0 || t->len >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->buf[t->len] = '\0';
        t->cap = t->len + 1; /* full: later lines are left out too */
        return;
    }
    t->len += (size_t)n;
}

int dpf_fmt(char *buf, size_t len, const char *fmt, ...)
{
    if (buf == NULL || len == 0)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < len;
}
