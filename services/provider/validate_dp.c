/* Field-by-field checks of a DP's JSON body. Each known field has one parse
 * function in a table; a key that is not in the table is an error, so a
 * typo ("enablePxe") is reported instead of silently ignored. Every message
 * names the field and the rule, because the administrator reads it in
 * dpctl's output and has nothing else to go on. */
#include "validate_dp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef dpf_status (*field_fn)(json_t *v, prov_dp_spec *s, prov_field_error *err);

static void upper_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[n] = '\0';
}

/* An FQDN field: length first (so the copy below cannot overflow), then the
 * source's rules. */
static dpf_status parse_fqdn(json_t *v, const char *field, char out[DPF_FQDN_MAX + 1],
                             prov_field_error *err)
{
    size_t n;
    if (prov_json_text(v, field, "an FQDN", 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (n > DPF_FQDN_MAX)
        return prov_json_fail(err, field, "%s is %zu characters long; an FQDN has at most %d",
                              field, n, DPF_FQDN_MAX);
    char why[200] = "";
    if (!dpf_fqdn_valid(json_string_value(v), why, sizeof why))
        return prov_json_fail(err, field, "'%s' is not a valid FQDN: %s", json_string_value(v),
                              why);
    upper_copy(out, json_string_value(v), n);
    return DPF_OK;
}

static dpf_status f_server(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    return parse_fqdn(v, "serverName", s->server, err);
}

static dpf_status f_site(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "siteCode", NULL, 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    return prov_json_site_code(v, "siteCode", s->site, err);
}

static dpf_status f_description(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "description", NULL, PROV_DESC_MAX, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    s->description = json_string_value(v);
    return DPF_OK;
}

static dpf_status check_group_name(json_t *v, size_t i, prov_field_error *err)
{
    char field[48];
    snprintf(field, sizeof field, "boundaryGroups[%zu]", i);
    size_t n;
    if (prov_json_text(v, field, NULL, PROV_GROUP_NAME_MAX, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *name = json_string_value(v);
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[n - 1]))
        return prov_json_fail(err, field, "%s must not start or end with white space", field);
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)name[k];
        if (c < 0x20 || c == 0x7f)
            return prov_json_fail(err, field, "%s must not contain control characters", field);
        /* the canonical list hman hashes into the CRC is comma-separated */
        if (c == ',')
            return prov_json_fail(err, field, "%s must not contain ','", field);
    }
    return DPF_OK;
}

static dpf_status f_groups(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    if (!json_is_array(v))
        return prov_json_fail(err, "boundaryGroups",
                              "boundaryGroups must be an array of names, not %s",
                              prov_json_type_name(v));
    if (json_array_size(v) > PROV_GROUPS_MAX)
        return prov_json_fail(err, "boundaryGroups",
                              "boundaryGroups has %zu names; at most %d are allowed",
                              json_array_size(v), PROV_GROUPS_MAX);
    size_t i;
    json_t *g;
    json_array_foreach(v, i, g) {
        dpf_status st = check_group_name(g, i, err);
        if (st != DPF_OK)
            return st;
        /* group names are matched case-insensitively (as the console does) */
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(s->groups[k], json_string_value(g)) == 0) {
                char field[48];
                snprintf(field, sizeof field, "boundaryGroups[%zu]", i);
                return prov_json_fail(err, field, "boundary group '%s' is listed twice",
                                      json_string_value(g));
            }
        }
        s->groups[i] = json_string_value(g);
    }
    s->n_groups = json_array_size(v);
    return DPF_OK;
}

static dpf_status f_pxe(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    if (!json_is_boolean(v))
        return prov_json_fail(err, "enablePXE", "enablePXE must be true or false, not %s",
                              prov_json_type_name(v));
    s->enable_pxe = json_is_true(v);
    return DPF_OK;
}

/* An integer field within [min, max]. */
static dpf_status parse_int(json_t *v, const char *field, long long min, long long max, int *out,
                            prov_field_error *err)
{
    if (!json_is_integer(v))
        return prov_json_fail(err, field, "%s must be an integer, not %s", field,
                              prov_json_type_name(v));
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return prov_json_fail(err, field, "%s must be between %lld and %lld, not %lld", field, min,
                              max, (long long)n);
    *out = (int)n;
    return DPF_OK;
}

static dpf_status parse_source(json_t *v, size_t i, prov_pull_source *out, prov_field_error *err)
{
    char field[80];
    snprintf(field, sizeof field, "pullDP.sources[%zu]", i);
    if (!json_is_object(v))
        return prov_json_fail(err, field,
                              "%s must be an object {\"serverName\":..., \"priority\":...}, not %s",
                              field, prov_json_type_name(v));
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (strcmp(key, "serverName") != 0 && strcmp(key, "priority") != 0)
            return prov_json_fail(err, field,
                                  "unknown field '%.64s' in %s (expected serverName, priority)",
                                  key, field);
    }
    json_t *name = json_object_get(v, "serverName");
    json_t *prio = json_object_get(v, "priority");
    char sub[96];
    snprintf(sub, sizeof sub, "%s.serverName", field);
    if (name == NULL)
        return prov_json_fail(err, sub, "%s is required", sub);
    dpf_status st = parse_fqdn(name, sub, out->server, err);
    if (st != DPF_OK)
        return st;
    snprintf(sub, sizeof sub, "%s.priority", field);
    if (prio == NULL)
        return prov_json_fail(err, sub, "%s is required", sub);
    return parse_int(prio, sub, 1, PROV_PRIORITY_MAX, &out->priority, err);
}

static int source_cmp(const void *a, const void *b)
{
    const prov_pull_source *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return strcmp(x->server, y->server);
}

static dpf_status f_pull(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    s->is_pull = 0;
    s->n_sources = 0;
    if (json_is_null(v))
        return DPF_OK;
    if (!json_is_object(v))
        return prov_json_fail(err, "pullDP", "pullDP must be null or {\"sources\": [...]}, not %s",
                              prov_json_type_name(v));
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (strcmp(key, "sources") != 0)
            return prov_json_fail(err, "pullDP",
                                  "unknown field '%.64s' in pullDP (expected sources)", key);
    }
    json_t *src = json_object_get(v, "sources");
    if (src == NULL || !json_is_array(src))
        return prov_json_fail(err, "pullDP.sources",
                              "pullDP.sources must be an array of source DPs");
    size_t n = json_array_size(src);
    if (n == 0)
        return prov_json_fail(err, "pullDP.sources", "a pull DP needs at least one source DP");
    if (n > PROV_SOURCES_MAX)
        return prov_json_fail(err, "pullDP.sources",
                              "pullDP.sources has %zu entries; at most %d are allowed", n,
                              PROV_SOURCES_MAX);
    for (size_t i = 0; i < n; i++) {
        dpf_status st = parse_source(json_array_get(src, i), i, &s->sources[i], err);
        if (st != DPF_OK)
            return st;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->sources[k].server, s->sources[i].server) == 0) {
                char field[96];
                snprintf(field, sizeof field, "pullDP.sources[%zu].serverName", i);
                return prov_json_fail(err, field, "source DP %s is listed twice",
                                      s->sources[i].server);
            }
        }
    }
    s->n_sources = n;
    s->is_pull = 1;
    qsort(s->sources, n, sizeof s->sources[0], source_cmp);
    return DPF_OK;
}

static dpf_status f_min_free(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    return parse_int(v, "minFreeSpaceMB", 0, PROV_MIN_FREE_MAX, &s->min_free_mb, err);
}

static dpf_status f_drive(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "drive", NULL, 0, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *d = json_string_value(v);
    if (n == 0) {
        s->drive[0] = '\0';
        return DPF_OK;
    }
    if ((n == 1 || (n == 2 && d[1] == ':')) && isalpha((unsigned char)d[0])) {
        s->drive[0] = (char)toupper((unsigned char)d[0]);
        s->drive[1] = ':';
        s->drive[2] = '\0';
        return DPF_OK;
    }
    return prov_json_fail(
        err, "drive", "drive must be \"\" (any drive) or one drive letter such as \"D\" or \"D:\"");
}

static dpf_status f_priority(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    return parse_int(v, "priority", PROV_PRIORITY_MIN, PROV_PRIORITY_MAX, &s->priority, err);
}

static dpf_status f_validation(json_t *v, prov_dp_spec *s, prov_field_error *err)
{
    return parse_int(v, "contentValidationIntervalHours", 0, PROV_VALIDATION_MAX,
                     &s->validation_hours, err);
}

static const struct field {
    const char *name;
    unsigned bit;
    field_fn parse;
} FIELDS[] = {
    {"serverName", PROV_F_SERVER, f_server},
    {"siteCode", PROV_F_SITE, f_site},
    {"description", PROV_F_DESCRIPTION, f_description},
    {"boundaryGroups", PROV_F_GROUPS, f_groups},
    {"enablePXE", PROV_F_PXE, f_pxe},
    {"pullDP", PROV_F_PULL, f_pull},
    {"minFreeSpaceMB", PROV_F_MIN_FREE, f_min_free},
    {"drive", PROV_F_DRIVE, f_drive},
    {"priority", PROV_F_PRIORITY, f_priority},
    {"contentValidationIntervalHours", PROV_F_VALIDATION, f_validation},
};

static const struct field *find_field(const char *key)
{
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        if (strcmp(FIELDS[i].name, key) == 0)
            return &FIELDS[i];
    }
    return NULL;
}

static void apply_defaults(prov_dp_spec *s)
{
    s->description = "";
    s->priority = PROV_PRIORITY_DEFAULT;
    s->min_free_mb = PROV_MIN_FREE_DEFAULT;
    s->validation_hours = PROV_VALIDATION_DEFAULT;
}

static dpf_status check_fields(json_t *doc, prov_spec_mode mode, prov_dp_spec *s,
                               prov_field_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        const struct field *f = find_field(key);
        if (f == NULL)
            return prov_json_fail(
                err, key,
                "unknown field '%.64s' (expected serverName, siteCode, "
                "description, boundaryGroups, enablePXE, pullDP, minFreeSpaceMB, drive, "
                "priority, contentValidationIntervalHours)",
                key);
        if (mode == PROV_SPEC_UPDATE && (f->bit & (PROV_F_SERVER | PROV_F_SITE)))
            return prov_json_fail(err, key,
                                  "%s names the DP and cannot be changed; remove the DP and add "
                                  "it again",
                                  key);
        dpf_status st = f->parse(v, s, err);
        if (st != DPF_OK)
            return st;
        s->present |= f->bit;
    }
    if (mode == PROV_SPEC_CREATE) {
        if (!(s->present & PROV_F_SERVER))
            return prov_json_fail(err, "serverName", "serverName is required");
        if (!(s->present & PROV_F_SITE))
            return prov_json_fail(err, "siteCode", "siteCode is required");
    } else if (s->present == 0) {
        return prov_json_fail(err, "", "the body changes nothing; give at least one property");
    }
    for (size_t i = 0; i < s->n_sources; i++) {
        /* pullDP is parsed before or after serverName depending on key
         * order, so the self-reference check waits until both are known */
        if (s->server[0] != '\0' && strcmp(s->sources[i].server, s->server) == 0)
            return prov_json_fail(err, "pullDP.sources", "a DP cannot be its own pull source (%s)",
                                  s->server);
    }
    return DPF_OK;
}

dpf_status prov_dp_spec_parse(const char *body, size_t len, prov_spec_mode mode,
                              prov_dp_spec *out, prov_field_error *err)
{
    memset(out, 0, sizeof *out);
    dpf_status st;
    json_t *doc = prov_json_load_object(body, len, err, &st);
    if (doc == NULL)
        return st;
    if (mode == PROV_SPEC_CREATE)
        apply_defaults(out);
    out->doc = doc;
    st = check_fields(doc, mode, out, err);
    if (st != DPF_OK)
        prov_dp_spec_clear(out);
    return st;
}

void prov_dp_spec_clear(prov_dp_spec *s)
{
    if (s == NULL)
        return;
    json_decref(s->doc);
    memset(s, 0, sizeof *s);
}
