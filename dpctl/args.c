/* Command-line value parsing for dpctl. Kept apart from the commands so the
 * rules (what a pull source looks like, which subject a watch uses) are
 * tested alone. */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/util.h>

int dpctl_parse_int(const char *text, long long min, long long max, long long *out)
{
    return dpf_parse_int(text, min, max, out);
}

int dpctl_parse_pull_source(const char *text, int def, char *server, size_t len, int *priority,
                            char *err, size_t errlen)
{
    const char *colon = strrchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    if (n == 0) {
        snprintf(err, errlen, "--pull-source '%s' has no server name (want FQDN:PRIORITY)", text);
        return 0;
    }
    if (n >= len) {
        snprintf(err, errlen, "--pull-source: the server name is too long");
        return 0;
    }
    long long prio = def;
    if (colon != NULL && !dpctl_parse_int(colon + 1, 1, 10000, &prio)) {
        snprintf(err, errlen, "--pull-source '%s': the priority after ':' must be a number 1..10000",
                 text);
        return 0;
    }
    memcpy(server, text, n);
    server[n] = '\0';
    *priority = (int)prio;
    return 1;
}

static int token_ok(const char *t)
{
    if (t == NULL)
        return 1;
    if (*t == '\0')
        return 0;
    for (; *t; t++) {
        if (*t == '.' || *t == '*' || *t == '>' || *t == ' ' || *t == '\t')
            return 0;
    }
    return 1;
}

int dpctl_statmsg_subject(const char *site, const char *id, char *buf, size_t len)
{
    if (!token_ok(site) || !token_ok(id))
        return 0;
    int n = (site == NULL && id == NULL)
                ? snprintf(buf, len, "statmsg.>")
                : snprintf(buf, len, "statmsg.%s.*.%s", site ? site : "*", id ? id : "*");
    return n > 0 && (size_t)n < len;
}
