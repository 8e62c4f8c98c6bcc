/* dpctl's trace commands (issue 11): `dpctl trace ID` and `dpctl dp history
 * SERVER`, and the line the commands that start an action print so the
 * administrator knows how to follow it. */
#ifndef DPCTL_CMD_TRACE_H
#define DPCTL_CMD_TRACE_H

#include "dpctl.h"

/* argv[0] is "trace", argv[1] the correlation id; [--limit N]. */
int dpctl_cmd_trace(dpctl_ctx *ctx, int argc, char **argv);
/* argv[0] is "history", argv[1] the server; [--limit N]. */
int dpctl_cmd_dp_history(dpctl_ctx *ctx, int argc, char **argv);

/* Prints "  Follow it with: dpctl trace <corr>" (nothing when corr is
 * NULL or ""). corr borrowed. */
void dpctl_print_follow(const char *corr);

/* "2026-12-02 16:01:02.123" of the API's "2026-12-02T16:01:02.123Z" (v
 * borrowed; "-" when not a string) into buf. */
void dpctl_trace_time(json_t *v, char *buf, size_t len);

#endif
