/* The logging family every service uses. A line is built whole in a buffer
 * and written with one locked fwrite, so lines from different threads never
 * interleave; embedded newlines are flattened so one record is one line an
 * administrator can grep. Times are UTC, so lines from hosts in different
 * time zones sort together. The JSON format (for a cluster's log store)
 * carries the same fields as named keys, built and escaped by jansson. */
#include "dpf/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define LOG_LINE_MAX 4096
#define CORR_MAX 63

/* Read by every thread that logs, set by dpf_log_init / dpf_log_set_level
 * (at start-up as a rule, but any thread may): atomics. The levels are
 * relaxed (each is a value of its own that guards nothing else); the
 * component is not, since the text it points to must be seen with it. */
static _Atomic(const char *) g_component = "DPFLEET";
static atomic_int g_level = DPF_LOG_INFO;
static pthread_once_t g_env_once = PTHREAD_ONCE_INIT;
static atomic_int g_level_explicit;
static atomic_int g_format = DPF_LOG_FORMAT_TEXT;
static atomic_int g_format_explicit;

static _Thread_local char t_corr[CORR_MAX + 1];
static _Thread_local uint64_t t_tid;
static _Thread_local long long t_dpid;

static int format_from_name(const char *v)
{
    if (strcasecmp(v, "text") == 0)
        return DPF_LOG_FORMAT_TEXT;
    if (strcasecmp(v, "json") == 0)
        return DPF_LOG_FORMAT_JSON;
    return -1;
}

static void read_env_format(void)
{
    const char *v = getenv("DPFLEET_LOG_FORMAT");
    if (atomic_load_explicit(&g_format_explicit, memory_order_relaxed) || v == NULL ||
        *v == '\0')
        return;
    int f = format_from_name(v);
    if (f >= 0)
        atomic_store_explicit(&g_format, f, memory_order_relaxed);
    else
        fprintf(stderr, "DPFLEET_LOG_FORMAT=%s is not one of text|json; using text\n", v);
}

static void read_env_level(void)
{
    read_env_format();
    const char *v = getenv("DPFLEET_LOG_LEVEL");
    if (atomic_load_explicit(&g_level_explicit, memory_order_relaxed) || v == NULL ||
        *v == '\0')
        return;
    int level;
    if (strcasecmp(v, "debug") == 0)
        level = DPF_LOG_DEBUG;
    else if (strcasecmp(v, "info") == 0)
        level = DPF_LOG_INFO;
    else if (strcasecmp(v, "warn") == 0 || strcasecmp(v, "warning") == 0)
        level = DPF_LOG_WARN;
    else if (strcasecmp(v, "error") == 0)
        level = DPF_LOG_ERROR;
    else
        level = -1;
    if (level >= 0)
        atomic_store_explicit(&g_level, level, memory_order_relaxed);
    else
        fprintf(stderr, "DPFLEET_LOG_LEVEL=%s is not one of debug|info|warn|error; using info\n",
                v);
}

void dpf_log_init(const char *component)
{
    if (component != NULL && *component != '\0')
        atomic_store(&g_component, component);
    pthread_once(&g_env_once, read_env_level);
}

const char *dpf_log_component(void)
{
    return atomic_load(&g_component);
}

void dpf_log_set_level(dpf_log_level level)
{
    pthread_once(&g_env_once, read_env_level);
    atomic_store_explicit(&g_level_explicit, 1, memory_order_relaxed);
    atomic_store_explicit(&g_level, (int)level, memory_order_relaxed);
}

int dpf_log_enabled(dpf_log_level level)
{
    pthread_once(&g_env_once, read_env_level);
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void dpf_log_set_corr(const char *corr)
{
    if (corr == NULL) {
        t_corr[0] = '\0';
        return;
    }
    size_t n = strnlen(corr, CORR_MAX);
    memcpy(t_corr, corr, n);
    t_corr[n] = '\0';
}

void dpf_log_set_format(dpf_log_format format)
{
    pthread_once(&g_env_once, read_env_level);
    atomic_store_explicit(&g_format_explicit, 1, memory_order_relaxed);
    atomic_store_explicit(&g_format, (int)format, memory_order_relaxed);
}

dpf_status dpf_log_set_format_name(const char *name)
{
    if (name == NULL || *name == '\0')
        return DPF_OK;
    int f = format_from_name(name);
    if (f < 0)
        return DPF_ERR_INVALID;
    dpf_log_set_format((dpf_log_format)f);
    return DPF_OK;
}

void dpf_log_set_dpid(long long dpid)
{
    t_dpid = dpid;
}

const char *dpf_log_corr(void)
{
    return t_corr;
}

uint64_t dpf_log_tid(void)
{
    if (t_tid == 0)
        t_tid = (uint64_t)syscall(SYS_gettid);
    return t_tid;
}

static char level_letter(dpf_log_level level)
{
    switch (level) {
    case DPF_LOG_DEBUG: return 'D';
    case DPF_LOG_INFO: return 'I';
    case DPF_LOG_WARN: return 'W';
    case DPF_LOG_ERROR: return 'E';
    }
    return '?';
}

/* Newlines and other control characters inside a message would split the
 * record; libpq's messages, for one, end in "\n". */
static size_t flatten(char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
            s[i] = ' ';
    }
    return len;
}

static void emit(const char *line, size_t len)
{
    flockfile(stderr);
    fwrite(line, 1, len, stderr);
    fflush(stderr);
    funlockfile(stderr);
}

static const char *level_name(dpf_log_level level)
{
    switch (level) {
    case DPF_LOG_DEBUG: return "debug";
    case DPF_LOG_INFO: return "info";
    case DPF_LOG_WARN: return "warn";
    case DPF_LOG_ERROR: return "error";
    }
    return "unknown";
}

/* msg (len bytes) as a JSON string; bytes that are not valid UTF-8 (a
 * path or a library message may hold any) become '?', so the record is
 * never lost. NULL without memory. */
static json_t *json_text(char *msg, size_t len)
{
    json_t *s = json_stringn(msg, len);
    if (s != NULL)
        return s;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)msg[i] >= 0x80 || msg[i] == '\0')
            msg[i] = '?';
    }
    return json_stringn(msg, len);
}

/* The JSON record: built by jansson (escaping included), one line. */
static void write_json(dpf_log_level level, const struct timespec *ts, const struct tm *tm,
                       char *msg, size_t len)
{
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm->tm_year + 1900,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
             ts->tv_nsec / 1000000L);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    json_t *o = json_object();
    if (o == NULL)
        return;
    /* set_new takes each value, also when it fails (jansson frees it), and
     * a NULL value only makes the call fail: OOM drops the record */
    int bad = json_object_set_new(o, "time", json_string(when)) |
              json_object_set_new(o, "level", json_string(level_name(level))) |
              json_object_set_new(o, "component", json_string(dpf_log_component())) |
              json_object_set_new(o, "thread", json_integer((json_int_t)dpf_log_tid()));
    if (t_corr[0] != '\0')
        bad |= json_object_set_new(o, "correlationId", json_text(t_corr, strlen(t_corr)));
    if (t_dpid != 0)
        bad |= json_object_set_new(o, "dpid", json_integer(t_dpid));
    bad |= json_object_set_new(o, "message", json_text(msg, len));
    if (bad) {
        json_decref(o);
        return;
    }
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (out == NULL)
        return;
    size_t n = strlen(out);
    out[n] = '\n'; /* json_dumps's NUL becomes the newline; written by length */
    emit(out, n + 1);
    free(out);
}

void dpf_log_write(dpf_log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    if (atomic_load_explicit(&g_format, memory_order_relaxed) == DPF_LOG_FORMAT_JSON) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        size_t len = m < 0 ? 0 : (size_t)m < sizeof line ? (size_t)m : sizeof line - 1;
        write_json(level, &ts, &tm, line, len);
        return;
    }
    uint64_t tid = dpf_log_tid();
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02d %02d:%02d:%02d.%03ld %c %s %llu (0x%llx) [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_letter(level), dpf_log_component(),
                     (unsigned long long)tid, (unsigned long long)tid,
                     t_corr[0] ? t_corr : "-");
    if (n < 0)
        return;
    size_t head = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + head, sizeof line - head, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t body = (size_t)m;
    /* keep room for the newline; a longer message is cut and marked */
    if (head + body > sizeof line - 2) {
        body = sizeof line - 2 - head;
        if (body > 3)
            memcpy(line + head + body - 3, "...", 3);
    }
    size_t len = head + flatten(line + head, body);
    line[len++] = '\n';
    emit(line, len);
}
