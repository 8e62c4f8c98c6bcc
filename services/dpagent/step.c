/* The context a step runs in: what it reports (log lines, error, changed)
 * and helpers to name files under the host root. A reported line goes to
 * three places at once: the reply (distmgr logs it under the worker thread),
 * the host's smsdpprov.log, and the agent's own stderr log. */
#include "dpagent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/log.h>
#include <dpf/util.h>
#include "agentlog.h"

static void add_line(dpa_step *s, const char *line)
{
    if (s->nlines == s->caplines) {
        size_t cap = s->caplines ? s->caplines * 2 : 16;
        char **l = realloc(s->lines, cap * sizeof *l);
        if (l == NULL)
            return; /* the line still reached the logs */
        s->lines = l;
        s->caplines = cap;
    }
    char *copy = strdup(line);
    if (copy != NULL)
        s->lines[s->nlines++] = copy;
}

void dpa_step_log(dpa_step *s, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->kind == DPA_QUERY) {
        DPF_DEBUG("%s: %s", s->host->fqdn, line);
    } else {
        DPF_INFO("%s: %s", s->host->fqdn, line);
        dpa_agentlog_append(s->host->root, s->kind == DPA_INSTALL, line);
    }
    add_line(s, line);
}

dpf_status dpa_step_fail(dpa_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    DPF_ERROR("%s: %s", s->host->fqdn, s->error);
    if (s->kind != DPA_QUERY)
        dpa_agentlog_append(s->host->root, s->kind == DPA_INSTALL, s->error);
    return DPF_ERR_STEP;
}

const char *dpa_step_param(const dpa_step *s, const char *key)
{
    for (size_t i = 0; i < s->req->n_params; i++) {
        const Dpf__KeyValue *kv = s->req->params[i];
        if (kv != NULL && kv->key != NULL && strcmp(kv->key, key) == 0)
            return kv->value ? kv->value : "";
    }
    return NULL;
}

dpf_status dpa_step_path(dpa_step *s, char *buf, size_t len, const char *rel)
{
    if (!dpf_fmt(buf, len, "%s/%s", s->host->root, rel))
        return dpa_step_fail(s, "path too long under %s", s->host->root);
    return DPF_OK;
}

void dpa_step_unc(const dpa_step *s, char *buf, size_t len, const char *rel)
{
    int n = snprintf(buf, len, "\\\\%s\\", s->host->fqdn);
    for (size_t i = n > 0 ? (size_t)n : 0; *rel && i + 1 < len; rel++, i++) {
        buf[i] = *rel == '/' ? '\\' : *rel;
        buf[i + 1] = '\0';
    }
}

dpf_status dpa_step_content(dpa_step *s, const char *path, const char *sha, int64_t size)
{
    if (s->ncontent == s->capcontent) {
        size_t cap = s->capcontent ? s->capcontent * 2 : 16;
        Dpf__ContentFile **c = realloc(s->content, cap * sizeof *c);
        if (c == NULL)
            return dpa_step_fail(s, "out of memory building the reply");
        s->content = c;
        s->capcontent = cap;
    }
    Dpf__ContentFile *f = malloc(sizeof *f);
    char *p = strdup(path ? path : ""), *h = strdup(sha ? sha : "");
    if (f == NULL || p == NULL || h == NULL) {
        free(f);
        free(p);
        free(h);
        return dpa_step_fail(s, "out of memory building the reply");
    }
    dpf__content_file__init(f);
    f->path = p;
    f->sha256 = h;
    f->size = size;
    s->content[s->ncontent++] = f;
    return DPF_OK;
}

void dpa_step_clear(dpa_step *s)
{
    for (size_t i = 0; i < s->ncontent; i++) {
        free(s->content[i]->path);
        free(s->content[i]->sha256);
        free(s->content[i]);
    }
    free(s->content);
    s->content = NULL;
    s->ncontent = s->capcontent = 0;
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i]);
    free(s->lines);
    s->lines = NULL;
    s->nlines = s->caplines = 0;
}
