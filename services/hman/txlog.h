/* The lines of one site control transaction, held until it ends. HMAN's
 * lines say what it wrote ("Inserted DP ...", "Updated DP ..."); written as
 * they happen, a crash or a rollback after them would leave lines for
 * writes that never took effect, and the redelivered change would log them
 * a second time. So the lines are kept here and written once the
 * transaction commits; a rolled-back transaction's go to the debug level. */
#ifndef HMAN_TXLOG_H
#define HMAN_TXLOG_H

#include <stddef.h>
#include <stdio.h>

#include <dpf/log.h>
#include <dpf/status.h>

/* Lines kept in memory up to this many bytes; the older ones then wait in
 * an anonymous temporary file. */
#define HMAN_TXLOG_MEM_MAX (256 * 1024)

/* Embedded by the caller (zero-initialized = empty); the buffer and the
 * file are its own. */
typedef struct hman_txlog {
    char *buf;   /* entries: one level byte, the text, '\0' */
    size_t len, cap;
    FILE *spill; /* the entries before buf's, NULL until needed */
    size_t spilled; /* bytes of entries in spill */
} hman_txlog;

/* Keeps one line at level (formatted only when that level is logged). If
 * memory runs out the line is written at once rather than lost. */
void hman_txlog_add(hman_txlog *l, dpf_log_level level, const char *fmt, ...) DPF_PRINTF(3, 4);

/* Writes the kept lines in order: at their own level when committed, else
 * at the debug level prefixed "Rolled back: ". Empties l. */
void hman_txlog_flush(hman_txlog *l, int committed);

/* Where the next line will go, for hman_txlog_undo. */
size_t hman_txlog_mark(const hman_txlog *l);

/* Drops the lines kept since hman_txlog_mark returned `mark` (a DP rolled
 * back to its savepoint): written at once at the debug level prefixed
 * "Rolled back: ", as a rolled-back transaction's are. */
void hman_txlog_undo(hman_txlog *l, size_t mark);

/* Frees the buffer (the lines are dropped); l may be reused. */
void hman_txlog_clear(hman_txlog *l);

#endif
