/* Lines held until their transaction ends (see txlog.h for why). One flat
 * buffer: a site change logs a few lines per DP, and they are written in
 * the order they were kept. Past HMAN_TXLOG_MEM_MAX bytes the buffer is
 * moved to an anonymous temporary file, so inserting 5,000 DPs in one
 * change (six lines each) does not hold megabytes of text in memory. */
#include "txlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 2048

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

/* Moves the buffer to the spill file; 0 if there is none to be had (the
 * lines then stay in memory). */
static int spill(hman_txlog *l)
{
    if (l->spill == NULL && (l->spill = tmpfile()) == NULL)
        return 0;
    if (fwrite(l->buf, 1, l->len, l->spill) != l->len)
        return 0;
    l->spilled += l->len;
    l->len = 0;
    return 1;
}

void hman_txlog_add(hman_txlog *l, dpf_log_level level, const char *fmt, ...)
{
    if (!dpf_log_enabled(level))
        return;
    char line[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (l->len > 0 && l->len + n + 2 > HMAN_TXLOG_MEM_MAX)
        spill(l);
    if (!reserve(l, n + 2)) {
        dpf_log_write(level, "%s", line);
        return;
    }
    l->buf[l->len++] = (char)level;
    memcpy(l->buf + l->len, line, n + 1);
    l->len += n + 1;
}

static void write_line(dpf_log_level level, const char *text, int committed)
{
    if (committed) {
        if (dpf_log_enabled(level))
            dpf_log_write(level, "%s", text);
    } else if (dpf_log_enabled(DPF_LOG_DEBUG)) {
        dpf_log_write(DPF_LOG_DEBUG, "Rolled back: %s", text);
    }
}

/* The entries of the spill file from offset off to its end. */
static void write_spilled(hman_txlog *l, size_t off, int committed)
{
    if (l->spill == NULL || off >= l->spilled || fflush(l->spill) != 0 ||
        fseek(l->spill, (long)off, SEEK_SET) != 0)
        return;
    char line[LINE_MAX_LEN + 1];
    int c, level = -1;
    size_t n = 0;
    for (size_t pos = off; pos < l->spilled && (c = getc(l->spill)) != EOF; pos++) {
        if (level < 0) {
            level = c;
            n = 0;
        } else if (c != '\0') {
            if (n < LINE_MAX_LEN)
                line[n++] = (char)c;
        } else {
            line[n] = '\0';
            write_line((dpf_log_level)level, line, committed);
            level = -1;
        }
    }
    fseek(l->spill, 0, SEEK_END);
}

static void write_from(const hman_txlog *l, size_t off, int committed)
{
    while (off < l->len) {
        const char *text = l->buf + off + 1;
        write_line((dpf_log_level)l->buf[off], text, committed);
        off += strlen(text) + 2;
    }
}

static void drop_spill(hman_txlog *l, size_t keep)
{
    if (l->spill == NULL)
        return;
    fflush(l->spill);
    if (keep == 0 || ftruncate(fileno(l->spill), (off_t)keep) != 0) {
        fclose(l->spill);
        l->spill = NULL;
        keep = 0;
    } else {
        fseek(l->spill, (long)keep, SEEK_SET);
    }
    l->spilled = keep;
}

void hman_txlog_flush(hman_txlog *l, int committed)
{
    write_spilled(l, 0, committed);
    drop_spill(l, 0);
    write_from(l, 0, committed);
    l->len = 0;
}

size_t hman_txlog_mark(const hman_txlog *l)
{
    return l->spilled + l->len;
}

void hman_txlog_undo(hman_txlog *l, size_t mark)
{
    if (mark >= hman_txlog_mark(l))
        return;
    if (mark >= l->spilled) {
        write_from(l, mark - l->spilled, 0);
        l->len = mark - l->spilled;
        return;
    }
    write_spilled(l, mark, 0);
    write_from(l, 0, 0);
    l->len = 0;
    drop_spill(l, mark);
}

void hman_txlog_clear(hman_txlog *l)
{
    drop_spill(l, 0);
    free(l->buf);
    l->buf = NULL;
    l->len = l->cap = 0;
}
