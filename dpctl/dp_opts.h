/* Options that set a DP's properties, shared by "dp add" and "dp set". */
#ifndef DPCTL_DP_OPTS_H
#define DPCTL_DP_OPTS_H

#include <jansson.h>

/* Parses argv (argv[0] is the command word) into body: serverName from the
 * one positional SERVER, siteCode only if with_site. 0 on a usage error
 * (already printed to stderr). */
int dpctl_dp_opts_parse(int argc, char **argv, int with_site, json_t *body);

#endif
