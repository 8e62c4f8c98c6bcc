/* Pure helpers for dpctl's command lines, testable without a server. */
#ifndef DPCTL_ARGS_H
#define DPCTL_ARGS_H

#include <stddef.h>

/* 1 if text is a whole decimal integer within [min, max]. */
int dpctl_parse_int(const char *text, long long min, long long max, long long *out);

/* "FQDN:PRIO" or "FQDN" (priority def). server (len bytes) receives the
 * name. 0 with a reason in err if the text is not of that form; the FQDN
 * itself is checked by the API. */
int dpctl_parse_pull_source(const char *text, int def, char *server, size_t len, int *priority,
                            char *err, size_t errlen);

/* The NATS subject for a status message watch: statmsg.<site|*>.*.<id|*>,
 * or statmsg.> without filters. site/id may be NULL. 0 if buf is short or a
 * filter is not a single subject token. */
int dpctl_statmsg_subject(const char *site, const char *id, char *buf, size_t len);

#endif
