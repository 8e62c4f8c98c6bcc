/* Checks of the package endpoints' input. Each body field has one parse
 * function in a table, as in validate_dp.c, so an unknown key is an error
 * instead of being ignored. The source directory check names the rule that
 * failed, because an administrator who typed a path has nothing else to go
 * on: the roots are resolved with realpath() too, so a root that is itself
 * a symbolic link (/srv/sources -> /data/sources) works, and a path that is
 * under a root as written but whose realpath is not is reported as a
 * symbolic link leading out rather than as "outside". */
#include "validate_pkg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/dp.h>

#define ROOTS_MAX 32

/* Characters (UTF-8 code points; jansson guarantees valid UTF-8). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/* ---- POST /v1/packages ---- */

static dpf_status f_name(json_t *v, prov_pkg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_text(v, "name", NULL, 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *t = json_string_value(v);
    if (utf8_chars(t, n) > PROV_PKG_NAME_MAX)
        return prov_json_fail(err, "name", "name is %zu characters long; at most %d are allowed",
                              utf8_chars(t, n), PROV_PKG_NAME_MAX);
    if (prov_json_has_control(t, n) || strlen(t) != n)
        return prov_json_fail(err, "name", "name must contain printable characters only");
    if (isspace((unsigned char)t[0]) || isspace((unsigned char)t[n - 1]))
        return prov_json_fail(err, "name", "name must not start or end with white space");
    s->name = t;
    return DPF_OK;
}

static dpf_status f_description(json_t *v, prov_pkg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "description", NULL, 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (utf8_chars(json_string_value(v), n) > PROV_PKG_DESC_MAX)
        return prov_json_fail(err, "description",
                              "description is %zu characters long; at most %d are "
                              "allowed",
                              utf8_chars(json_string_value(v), n), PROV_PKG_DESC_MAX);
    if (strlen(json_string_value(v)) != n)
        return prov_json_fail(err, "description", "description must not contain NUL characters");
    s->description = json_string_value(v);
    return DPF_OK;
}

static dpf_status f_source(json_t *v, prov_pkg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_text(v, "sourcePath", "an absolute directory path", PROV_PKG_PATH_MAX, &n,
                       err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (prov_json_has_control(json_string_value(v), n) || strlen(json_string_value(v)) != n)
        return prov_json_fail(err, "sourcePath", "sourcePath must not contain control characters");
    s->source_path = json_string_value(v);
    return DPF_OK;
}

static dpf_status f_site(json_t *v, prov_pkg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "siteCode", NULL, 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    return prov_json_site_code(v, "siteCode", s->site, err);
}

static const struct spec_field {
    const char *name;
    dpf_status (*parse)(json_t *v, prov_pkg_spec *s, prov_field_error *err);
} SPEC_FIELDS[] = {
    {"name", f_name},
    {"description", f_description},
    {"sourcePath", f_source},
    {"siteCode", f_site},
};

dpf_status prov_pkg_spec_parse(const char *body, size_t len, prov_pkg_spec *out,
                               prov_field_error *err)
{
    dpf_status st = DPF_ERR_INVALID;
    memset(out, 0, sizeof *out);
    json_t *doc = prov_json_load_object(body, len, err, &st);
    if (doc == NULL)
        return st;
    out->doc = doc;
    out->description = "";
    snprintf(out->site, sizeof out->site, "%s", PROV_PKG_DEFAULT_SITE);
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        const struct spec_field *f = NULL;
        for (size_t i = 0; i < sizeof SPEC_FIELDS / sizeof SPEC_FIELDS[0]; i++) {
            if (strcmp(SPEC_FIELDS[i].name, key) == 0)
                f = &SPEC_FIELDS[i];
        }
        if (f == NULL) {
            st = prov_json_fail(err, key,
                                "unknown field '%.64s' (expected name, description, sourcePath, "
                                "siteCode)",
                                key);
            goto bad;
        }
        if ((st = f->parse(v, out, err)) != DPF_OK)
            goto bad;
    }
    if (out->name == NULL) {
        st = prov_json_fail(err, "name", "name is required");
        goto bad;
    }
    if (out->source_path == NULL) {
        st = prov_json_fail(err, "sourcePath", "sourcePath is required");
        goto bad;
    }
    return DPF_OK;
bad:
    prov_pkg_spec_clear(out);
    return st;
}

void prov_pkg_spec_clear(prov_pkg_spec *s)
{
    if (s == NULL)
        return;
    json_decref(s->doc);
    memset(s, 0, sizeof *s);
}

/* ---- distribute / redistribute ---- */

static dpf_status check_dp_name(json_t *v, const char *field, json_t *out, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, field, "a server FQDN", 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (n == 0 || n > DPF_FQDN_MAX || strlen(json_string_value(v)) != n)
        return prov_json_fail(err, field, "%s must be a server FQDN of 1..%d characters", field,
                              DPF_FQDN_MAX);
    char why[160], up[DPF_FQDN_MAX + 1];
    if (!dpf_fqdn_valid(json_string_value(v), why, sizeof why))
        return prov_json_fail(err, field, "'%s' is not a valid FQDN: %s", json_string_value(v),
                              why);
    for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)json_string_value(v)[i]);
    json_array_append_new(out, json_string(up));
    return DPF_OK;
}

static dpf_status check_group_name(json_t *v, const char *field, json_t *out,
                                   prov_field_error *err)
{
    size_t n;
    if (prov_json_text(v, field, "a boundary group name", 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (n > PROV_GROUP_NAME_MAX)
        return prov_json_fail(err, field,
                              "%s is %zu bytes long; a boundary group name has at most %d", field,
                              n, PROV_GROUP_NAME_MAX);
    if (prov_json_has_control(json_string_value(v), n) || strlen(json_string_value(v)) != n)
        return prov_json_fail(err, field, "%s must not contain control characters", field);
    json_array_append(out, v);
    return DPF_OK;
}

typedef dpf_status (*name_fn)(json_t *v, const char *field, json_t *out, prov_field_error *err);

/* One array of names: each checked by check, none twice. */
static dpf_status parse_names(json_t *v, const char *field, name_fn check, json_t *out,
                              prov_field_error *err)
{
    if (!json_is_array(v))
        return prov_json_fail(err, field, "%s must be an array of names, not %s", field,
                              prov_json_type_name(v));
    if (json_array_size(v) > PROV_PKG_TARGETS_MAX)
        return prov_json_fail(err, field, "%s has %zu names; at most %d are allowed in one request",
                              field, json_array_size(v), PROV_PKG_TARGETS_MAX);
    size_t i;
    json_t *name;
    json_array_foreach(v, i, name) {
        char sub[64];
        snprintf(sub, sizeof sub, "%s[%zu]", field, i);
        dpf_status st = check(name, sub, out, err);
        if (st != DPF_OK)
            return st;
        const char *added = json_string_value(json_array_get(out, i));
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(json_string_value(json_array_get(out, k)), added) == 0)
                return prov_json_fail(err, sub, "'%s' is listed twice in %s",
                                      json_string_value(name), field);
        }
    }
    return DPF_OK;
}

dpf_status prov_pkg_targets_parse(const char *body, size_t len, prov_targets_mode mode,
                                  prov_pkg_targets *out, prov_field_error *err)
{
    dpf_status st = DPF_ERR_INVALID;
    memset(out, 0, sizeof *out);
    json_t *doc = prov_json_load_object(body, len, err, &st);
    if (doc == NULL)
        return st;
    out->dps = json_array();
    out->groups = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        if (strcmp(key, "distributionPoints") == 0) {
            st = parse_names(v, key, check_dp_name, out->dps, err);
        } else if (strcmp(key, "boundaryGroups") == 0 && mode == PROV_TARGETS_DISTRIBUTE) {
            st = parse_names(v, key, check_group_name, out->groups, err);
        } else {
            st = prov_json_fail(err, key, "unknown field '%.64s' (expected %s)", key,
                                mode == PROV_TARGETS_DISTRIBUTE
                                    ? "distributionPoints, boundaryGroups"
                                    : "distributionPoints");
        }
        if (st != DPF_OK)
            goto bad;
    }
    if (mode == PROV_TARGETS_REDISTRIBUTE && json_array_size(out->dps) == 0) {
        st = prov_json_fail(err, "distributionPoints",
                            "distributionPoints must name at least one "
                            "distribution point");
        goto bad;
    }
    if (json_array_size(out->dps) == 0 && json_array_size(out->groups) == 0) {
        st = prov_json_fail(err, "distributionPoints",
                            "name at least one distribution point "
                            "(distributionPoints) or boundary group (boundaryGroups)");
        goto bad;
    }
    json_decref(doc);
    return DPF_OK;
bad:
    json_decref(doc);
    prov_pkg_targets_clear(out);
    return st;
}

void prov_pkg_targets_clear(prov_pkg_targets *t)
{
    if (t == NULL)
        return;
    json_decref(t->dps);
    json_decref(t->groups);
    memset(t, 0, sizeof *t);
}

int prov_pkg_id_parse(const char *text, char *out)
{
    if (strlen(text) != PROV_PKG_ID_LEN)
        return 0;
    for (int i = 0; i < PROV_PKG_ID_LEN; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i < 3 ? !isalnum(c) : !isxdigit(c))
            return 0;
        out[i] = (char)toupper(c);
    }
    out[PROV_PKG_ID_LEN] = '\0';
    return 1;
}

/* ---- the source directory ---- */

/* A path without '//', '.' components or a trailing '/' (root stays "/").
 * out has room for strlen(path) + 1 bytes. */
static void normalize(const char *path, char *out)
{
    size_t n = 0;
    const char *p = path;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p != '\0' && *p != '/')
            p++;
        size_t len = (size_t)(p - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        out[n++] = '/';
        memcpy(out + n, seg, len);
        n += len;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
}

static int has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2) {
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    }
    return 0;
}

/* 1 if path is root or below it (both normalized). */
static int is_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 0)
        return 0;
    if (strcmp(root, "/") == 0)
        return path[0] == '/';
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

typedef struct roots {
    char *buf;                  /* owned copy of the setting, split in place */
    char *lexical[ROOTS_MAX];   /* normalized as configured (into buf's copy) */
    char *real[ROOTS_MAX];      /* owned realpath, NULL if it does not resolve */
    size_t n;
} roots;

static void roots_free(roots *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->lexical[i]);
        free(r->real[i]);
    }
    free(r->buf);
}

static void roots_load(const char *setting, roots *r)
{
    memset(r, 0, sizeof *r);
    r->buf = strdup(setting ? setting : "");
    if (r->buf == NULL)
        return;
    char *save = NULL;
    for (char *tok = strtok_r(r->buf, ":", &save); tok != NULL && r->n < ROOTS_MAX;
         tok = strtok_r(NULL, ":", &save)) {
        if (tok[0] != '/' || has_dotdot(tok))
            continue; /* not usable as a root: matches nothing */
        char *lex = malloc(strlen(tok) + 2);
        if (lex == NULL)
            break;
        normalize(tok, lex);
        r->lexical[r->n] = lex;
        r->real[r->n] = realpath(tok, NULL);
        r->n++;
    }
}

/* "A, B" of the configured roots into buf. */
static void roots_list(const roots *r, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", r->lexical[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static dpf_status outside(const roots *r, const char *path, prov_field_error *err)
{
    char list[256];
    roots_list(r, list, sizeof list);
    return prov_json_fail(err, "sourcePath",
                          "sourcePath %.200s is outside every content source root "
                          "(%s)",
                          path, list);
}

dpf_status prov_pkg_source_check(const char *path, const char *roots_setting, char *resolved,
                                 prov_field_error *err)
{
    memset(err, 0, sizeof *err);
    resolved[0] = '\0';
    if (path[0] != '/')
        return prov_json_fail(err, "sourcePath",
                              "sourcePath must be an absolute path (starting with "
                              "'/'), not '%.200s'",
                              path);
    if (has_dotdot(path))
        return prov_json_fail(err, "sourcePath",
                              "sourcePath must not contain a '..' component: "
                              "%.200s",
                              path);
    if (strlen(path) > PROV_PKG_PATH_MAX)
        return prov_json_fail(err, "sourcePath", "sourcePath is longer than %d bytes",
                              PROV_PKG_PATH_MAX);
    roots r;
    roots_load(roots_setting, &r);
    dpf_status st = DPF_OK;
    char *lex = malloc(strlen(path) + 2);
    char *real = NULL;
    if (lex == NULL) {
        st = prov_json_fail(err, "sourcePath", "out of memory");
        goto out;
    }
    if (r.n == 0) {
        st = prov_json_fail(err, "sourcePath",
                            "no content source roots are configured on the provider "
                            "(DPFLEET_CONTENT_SOURCE_ROOTS), so no sourcePath is accepted");
        goto out;
    }
    normalize(path, lex);
    int lex_in = 0;
    for (size_t i = 0; i < r.n && !lex_in; i++)
        lex_in = is_under(lex, r.lexical[i]) || (r.real[i] && is_under(lex, r.real[i]));
    real = realpath(path, NULL);
    if (real == NULL) {
        int e = errno;
        if (!lex_in)
            st = outside(&r, path, err);
        else if (e == ENOENT)
            st = prov_json_fail(err, "sourcePath", "sourcePath %.200s does not exist", path);
        else if (e == ENOTDIR)
            st = prov_json_fail(err, "sourcePath",
                                "sourcePath %.200s is not a directory (a part of it "
                                "is a file)",
                                path);
        else if (e == EACCES)
            st = prov_json_fail(err, "sourcePath",
                                "sourcePath %.200s is not readable by the provider "
                                "(permission denied)",
                                path);
        else
            st = prov_json_fail(err, "sourcePath", "sourcePath %.200s cannot be resolved: %s", path,
                                strerror(e));
        goto out;
    }
    int real_in = 0;
    for (size_t i = 0; i < r.n && !real_in; i++)
        real_in = r.real[i] != NULL && is_under(real, r.real[i]);
    if (!real_in) {
        if (lex_in)
            st = prov_json_fail(err, "sourcePath",
                                "sourcePath %.160s is or goes through a symbolic link "
                                "that leads out of the content source roots (to %.160s)",
                                path, real);
        else
            st = outside(&r, path, err);
        goto out;
    }
    struct stat sb;
    if (stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        st = prov_json_fail(err, "sourcePath", "sourcePath %.200s is not a directory", path);
        goto out;
    }
    DIR *d = access(real, R_OK | X_OK) == 0 ? opendir(real) : NULL;
    if (d == NULL) {
        st = prov_json_fail(err, "sourcePath",
                            "sourcePath %.200s is not readable by the provider (%s)", path,
                            strerror(errno));
        goto out;
    }
    closedir(d);
    if (strlen(real) > PROV_PKG_PATH_MAX) {
        st = prov_json_fail(err, "sourcePath", "sourcePath resolves to a path longer than %d bytes",
                            PROV_PKG_PATH_MAX);
        goto out;
    }
    snprintf(resolved, PROV_PKG_PATH_MAX + 1, "%s", real);
out:
    free(real);
    free(lex);
    roots_free(&r);
    return st;
}
