/* One logging family. Every line names the component, the thread id and the
 * correlation id, and reads like the source documents' log excerpts:
 *
 *   2026-11-21 07:30:01.123 I SMS_DISTRIBUTION_MANAGER 4788 (0x12b4) [corr] ~Processing 32.INS
 *
 * Lines go to stderr (containers collect it). The level is checked before the
 * message is formatted. With DPFLEET_LOG_FORMAT=json (or
 * dpf_log_set_format, which a service's --log-format calls) each record is
 * instead one JSON object per line, for Loki or Elasticsearch:
 *
 *   {"time":"2026-11-21T07:30:01.123Z","level":"info","component":"SMS_DISTRIBUTION_MANAGER",
 *    "thread":4788,"correlationId":"corr","dpid":42,"message":"~Processing 32.INS"}
 *
 * correlationId and dpid appear only when the thread has set them. */
#ifndef DPF_LOG_H
#define DPF_LOG_H

#include <stdint.h>
#include "status.h"

typedef enum dpf_log_level {
    DPF_LOG_DEBUG = 0,
    DPF_LOG_INFO = 1,
    DPF_LOG_WARN = 2,
    DPF_LOG_ERROR = 3,
} dpf_log_level;

/* component: borrowed, must outlive the process (a string literal), e.g.
 * "SMS_HIERARCHY_MANAGER". The level comes from DPFLEET_LOG_LEVEL
 * (debug|info|warn|error) unless set with dpf_log_set_level. */
void dpf_log_init(const char *component);
/* The component given to dpf_log_init ("DPFLEET" before it), borrowed. */
const char *dpf_log_component(void);
void dpf_log_set_level(dpf_log_level level);
int dpf_log_enabled(dpf_log_level level);

typedef enum dpf_log_format {
    DPF_LOG_FORMAT_TEXT = 0, /* the source-like line above (the default) */
    DPF_LOG_FORMAT_JSON = 1, /* one JSON object per line */
} dpf_log_format;

/* Sets the format for every thread. */
void dpf_log_set_format(dpf_log_format format);
/* name: "text" or "json" (any letter case); DPF_ERR_INVALID otherwise (the
 * format is then unchanged). NULL or "": DPF_OK, unchanged. */
dpf_status dpf_log_set_format_name(const char *name) DPF_MUSTCHECK;

/* The calling thread's correlation id, shown on every line it logs.
 * corr: copied (at most 63 chars); NULL or "" clears it. */
void dpf_log_set_corr(const char *corr);
/* Borrowed pointer to the calling thread's correlation id ("" if none). */
const char *dpf_log_corr(void);

/* The DP the calling thread works on (a JSON record's "dpid"); 0 clears it. */
void dpf_log_set_dpid(long long dpid);

/* Kernel thread id of the caller (what the source prints as "4788 (0x12b4)"). */
uint64_t dpf_log_tid(void);

void dpf_log_write(dpf_log_level level, const char *fmt, ...) DPF_PRINTF(2, 3);

#define DPF_LOG(lvl, ...) \
    do { if (dpf_log_enabled(lvl)) dpf_log_write(lvl, __VA_ARGS__); } while (0)
#define DPF_DEBUG(...) DPF_LOG(DPF_LOG_DEBUG, __VA_ARGS__)
#define DPF_INFO(...) DPF_LOG(DPF_LOG_INFO, __VA_ARGS__)
#define DPF_WARN(...) DPF_LOG(DPF_LOG_WARN, __VA_ARGS__)
#define DPF_ERROR(...) DPF_LOG(DPF_LOG_ERROR, __VA_ARGS__)

#endif
