/* Small helpers shared by every service. */
#ifndef DPF_UTIL_H
#define DPF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* Writes a random UUID v4 ("23a72b6c-eace-4218-929c-4c80638c031e", lower case)
 * into out, from libuuid (uuid_generate_random). Thread-safe. */
void dpf_uuid(char out[37]);

/* Wall clock and monotonic clock in milliseconds / microseconds. */
int64_t dpf_now_ms(void);
int64_t dpf_mono_us(void);

/* This host's name for status messages (DPFLEET_SYSTEM_NAME or gethostname), borrowed. */
const char *dpf_system_name(void);

/* Reads a whole file: *data malloc'd (NUL-terminated, owned by the caller). */
dpf_status dpf_read_file(const char *path, char **data, size_t *len) DPF_MUSTCHECK;

/* Installs SIGINT/SIGTERM handlers that set a flag; dpf_stopping() reads it.
 * Also ignores SIGPIPE, so a peer closing a socket is an error, not a kill.
 * The handlers do not restart system calls: blocking waits return early. */
void dpf_handle_signals(void);
int dpf_stopping(void);

/* 1 if text is a whole decimal integer (no sign-only, blanks or trailing
 * characters) within [min, max], stored in *out; 0 otherwise, *out kept. */
int dpf_parse_int(const char *text, long long min, long long max, long long *out);

/* snprintf that always terminates; returns 0 if truncated, 1 otherwise. */
int dpf_fmt(char *buf, size_t len, const char *fmt, ...) DPF_PRINTF(3, 4);

/* Text written line by line into a fixed buffer (a /metrics or /readyz
 * body). dpf_textbuf_printf adds what fmt makes only when it fits whole;
 * once something does not fit, nothing more is added, so the text never
 * ends in a cut line nor holds a Prometheus sample whose # TYPE line was
 * left out. A NULL buf or a cap of 0 writes nothing. buf stays
 * NUL-terminated; len counts the bytes written. */
typedef struct dpf_textbuf {
    char *buf;
    size_t len, cap;
} dpf_textbuf;
void dpf_textbuf_printf(dpf_textbuf *t, const char *fmt, ...) DPF_PRINTF(2, 3);

#endif
