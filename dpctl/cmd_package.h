/* dpctl's package commands (cmd_package_*.c): the commands main.c
 * dispatches to, and what they share (cmd_package_util.c). */
#ifndef DPCTL_CMD_PACKAGE_H
#define DPCTL_CMD_PACKAGE_H

#include <stddef.h>
#include <jansson.h>
#include "dpctl.h"

int dpctl_cmd_package_create(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_update(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_list(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_show(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_distribute(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_redistribute(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_remove(dpctl_ctx *ctx, int argc, char **argv);
int dpctl_cmd_package_delete(dpctl_ctx *ctx, int argc, char **argv);

/* "/v1/packages/<id, percent-encoded><suffix>" into path (len bytes):
 * 1, or 0 after printing that the id is too long. suffix may be "". */
int dpctl_pkg_path(const char *id, const char *suffix, char *path, size_t len);

/* Parses "ID [--dp SERVER]... [--group NAME]..." (argv[0] is the command
 * word; --group only when with_groups) into body {"distributionPoints":
 * [...], "boundaryGroups": [...]} (arrays only for options given) and *id
 * (borrowed from argv). 0 on a usage error, printed. need_dp: at least one
 * --dp; otherwise at least one --dp or --group. */
int dpctl_pkg_targets(int argc, char **argv, const char *cmd, int with_groups, int need_dp,
                      json_t *body, const char **id);

/* "1.5 MB" and the like for a byte count into buf. */
void dpctl_pkg_size(long long bytes, char *buf, size_t len);

/* Prints the {serverName, state} entries of a distribute/redistribute answer. */
void dpctl_pkg_print_targets(const dpctl_resp *r, const char *what);

#endif
