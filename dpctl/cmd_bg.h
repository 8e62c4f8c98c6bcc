/* dpctl's boundary group and content location commands (cmd_bg_*.c,
 * cmd_content_locate.c): the commands main.c dispatches to, and what the
 * boundary group commands share (cmd_bg_util.c). */
#ifndef DPCTL_CMD_BG_H
#define DPCTL_CMD_BG_H

#include <stddef.h>
#include <jansson.h>
#include "dpctl.h"

int dpctl_cmd_bg_create(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_bg_list(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_bg_show(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_bg_set(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_bg_delete(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_content_locate(dpctl_ctx *ctx, int argc, char **argv);

/* "/v1/boundarygroups/<name, percent-encoded>" into path (len bytes): 1, or
 * 0 after printing that the name is too long. */
int dpctl_bg_path(const char *name, char *path, size_t len);

/* Parses the options create and set share into body (borrowed, filled):
 *   --description TEXT  --boundary SUBNET|RANGE ...  --neighbor NAME[:MINUTES] ...
 *   --site-default  --default-fallback-minutes N
 * and, with for_set, --no-boundaries, --no-neighbors, --not-site-default;
 * without it, --site SITE. *name (borrowed from argv) is the one operand.
 * 0 on a usage error, printed. */
int dpctl_bg_options(int argc, char **argv, const char *cmd, int for_set, json_t *body,
                     const char **name);

/* Prints one group as "show" does (r->json an object). */
void dpctl_bg_print(const dpctl_resp *r);

#endif
