/* configure_pulldp / remove_pulldp: the source's pulldp.msi (seed step 11).
 * A pull DP downloads content from its source DPs, highest priority (lowest
 * number) first; etc/pulldp.conf records the component as installed with
 * its sources in that order. */
#include "dpagent.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dpf/util.h>
#include "fsutil.h"
#include "kvfile.h"

#define MAX_SOURCES 32

typedef struct source {
    char fqdn[DPF_FQDN_MAX + 1];
    long prio;
    size_t order;
} source;

static int by_priority(const void *a, const void *b)
{
    const source *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

dpf_status dpa_pulldp_canonical(const char *in, const char *self, char *out, size_t outlen,
                                char *err, size_t errlen)
{
    source src[MAX_SOURCES];
    size_t n = 0;
    const char *p = in ? in : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[DPF_FQDN_MAX + 32];
        if (len == 0 || len >= sizeof item) {
            snprintf(err, errlen, "source %zu is empty or too long", n + 1);
            return DPF_ERR_INVALID;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strrchr(item, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "source '%.64s' is not FQDN:priority", item);
            return DPF_ERR_INVALID;
        }
        *colon = '\0';
        char why[128], *end = NULL;
        if (!dpf_fqdn_valid(item, why, sizeof why)) {
            snprintf(err, errlen, "source '%.64s' is not a valid FQDN: %s", item, why);
            return DPF_ERR_INVALID;
        }
        errno = 0;
        long prio = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || errno != 0 || prio < 0 || prio > 1000000) {
            snprintf(err, errlen, "priority of source '%.64s' is not a number 0-1000000", item);
            return DPF_ERR_INVALID;
        }
        if (n == MAX_SOURCES) {
            snprintf(err, errlen, "more than %d source DPs", MAX_SOURCES);
            return DPF_ERR_INVALID;
        }
        for (char *c = item; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        if (self != NULL && strcasecmp(item, self) == 0) {
            snprintf(err, errlen, "a pull DP cannot be its own source (%s)", item);
            return DPF_ERR_INVALID;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(src[i].fqdn, item) == 0) {
                snprintf(err, errlen, "source %s is listed twice", item);
                return DPF_ERR_INVALID;
            }
        }
        (void)dpf_fmt(src[n].fqdn, sizeof src[n].fqdn, "%s", item); /* checked: an FQDN */
        src[n].prio = prio;
        src[n].order = n;
        n++;
        p += len + (comma ? 1 : 0);
        if (comma && *p == '\0') {
            snprintf(err, errlen, "source list ends with ','");
            return DPF_ERR_INVALID;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "a pull DP needs at least one source DP");
        return DPF_ERR_INVALID;
    }
    qsort(src, n, sizeof src[0], by_priority);
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + off, outlen - off, "%s%s:%ld", i ? "," : "", src[i].fqdn,
                         src[i].prio);
        if (w < 0 || (size_t)w >= outlen - off) {
            snprintf(err, errlen, "source list too long");
            return DPF_ERR_INVALID;
        }
        off += (size_t)w;
    }
    return DPF_OK;
}

static dpf_status install_pulldp(dpa_step *s)
{
    char sources[MAX_SOURCES * (DPF_FQDN_MAX + 16)], err[256], etc[PATH_MAX], conf[PATH_MAX];
    if (dpa_pulldp_canonical(dpa_step_param(s, "sources"), s->host->fqdn, sources,
                             sizeof sources, err, sizeof err) != DPF_OK)
        return dpa_step_fail(s, "PullDP was not installed on %s: %s", s->host->fqdn, err);
    if (dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, DPA_REL_PULLDP_CONF) != DPF_OK)
        return DPF_ERR_STEP;
    dpa_kv *kv = NULL;
    int changed = 0;
    dpf_status rc = dpa_kv_create(&kv);
    if (rc == DPF_OK && (rc = dpa_kv_set(kv, "pulldp", "1")) == DPF_OK &&
        (rc = dpa_kv_set(kv, "sources", sources)) == DPF_OK &&
        (rc = dpa_fs_mkdirs(etc, 0755, &changed)) == DPF_OK)
        rc = dpa_kv_save(kv, conf, &changed);
    dpa_kv_destroy(kv);
    if (rc != DPF_OK)
        return dpa_step_fail(s, "cannot write %s: %s", conf, dpf_status_text(rc));
    s->changed |= changed;
    if (changed) {
        dpa_step_log(s, "Installing PullDP, check %s/" DPA_REL_LOGS "/smsdpprov.log",
                     s->host->root);
        dpa_step_log(s, "PullDP sources in priority order: %s", sources);
        dpa_step_log(s, "PullDP is marked Installed");
    } else {
        dpa_step_log(s, "PullDP is already installed with sources %s", sources);
    }
    return DPF_OK;
}

static dpf_status uninstall_pulldp(dpa_step *s)
{
    char conf[PATH_MAX], etc[PATH_MAX];
    if (dpa_step_path(s, conf, sizeof conf, DPA_REL_PULLDP_CONF) != DPF_OK ||
        dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK)
        return DPF_ERR_STEP;
    int removed = 0;
    if (dpa_fs_unlink(conf, &removed) != DPF_OK)
        return dpa_step_fail(s, "cannot remove %s", conf);
    dpa_fs_rmdir_if_empty(etc);
    s->changed |= removed;
    dpa_step_log(s, removed ? "Uninstalling PullDP: PullDP component removed from %s"
                            : "%s is NOT a Pull DP, nothing to remove", s->host->fqdn);
    return DPF_OK;
}

dpf_status dpa_step_configure_pulldp(dpa_step *s)
{
    const char *on = dpa_step_param(s, "pulldp");
    if (on == NULL)
        return dpa_step_fail(s, "configure_pulldp needs parameter 'pulldp' (1 or 0)");
    if (strcmp(on, "1") == 0)
        return install_pulldp(s);
    if (strcmp(on, "0") == 0)
        return uninstall_pulldp(s);
    return dpa_step_fail(s, "parameter 'pulldp' must be 1 or 0, not '%.32s'", on);
}

dpf_status dpa_step_remove_pulldp(dpa_step *s)
{
    return uninstall_pulldp(s);
}
