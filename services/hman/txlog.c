/* Lines held until their transaction ends (see txlog.h for why). One flat
 * buffer: a site change logs a few lines per DP, and they are written in
 * the order they were kept. */
#include "txlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(hman_txlog *l, size_t more)
{
    if (l->len + more <= l->cap)
        return 1;
    size_t cap = l->cap ? l->cap : 4096;
    while (cap < l->len + more)
        cap *= 2;
    char *b = realloc(l->buf, cap);
    if (b == NULL)
        return 0;
    l->buf = b;
    l->cap = cap;
    return 1;
}

void hman_txlog_add(hman_txlog *l, dpf_log_level level, const char *fmt, ...)
{
    if (!dpf_log_enabled(level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (!reserve(l, n + 2)) {
        dpf_log_write(level, "%s", line);
        return;
    }
    l->buf[l->len++] = (char)level;
    memcpy(l->buf + l->len, line, n + 1);
    l->len += n + 1;
}

static void write_from(const hman_txlog *l, size_t off, int committed)
{
    while (off < l->len) {
        dpf_log_level level = (dpf_log_level)l->buf[off];
        const char *text = l->buf + off + 1;
        if (committed) {
            if (dpf_log_enabled(level))
                dpf_log_write(level, "%s", text);
        } else if (dpf_log_enabled(DPF_LOG_DEBUG)) {
            dpf_log_write(DPF_LOG_DEBUG, "Rolled back: %s", text);
        }
        off += strlen(text) + 2;
    }
}

void hman_txlog_flush(hman_txlog *l, int committed)
{
    write_from(l, 0, committed);
    l->len = 0;
}

void hman_txlog_undo(hman_txlog *l, size_t mark)
{
    if (mark >= l->len)
        return;
    write_from(l, mark, 0);
    l->len = mark;
}

void hman_txlog_clear(hman_txlog *l)
{
    free(l->buf);
    l->buf = NULL;
    l->len = l->cap = 0;
}
