/* Checks of the boundary group endpoints' input. Each body field has one
 * parse function in a table, as in validate_dp.c, so an unknown key is an
 * error instead of being ignored. Addresses are read by inet_pton only; the
 * host-bit check masks the bytes inet_pton gave and names the subnet the
 * administrator probably meant, because "invalid CIDR" alone leaves them
 * guessing. Boundaries are kept in canonical form (inet_ntop), so
 * "2001:DB8::/48" and "2001:db8::/48" are one boundary, not two. */
#include "validate_bg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dpf/dp.h>
#include <dpf/util.h>

/* ---- addresses and boundaries ---- */

typedef struct addr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char b[16];
} addr;

static int addr_read(const char *s, size_t n, addr *a)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, a->b) == 1) {
        a->family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, tmp, a->b) == 1) {
        a->family = AF_INET6;
        return 1;
    }
    return 0;
}

static int addr_len(const addr *a)
{
    return a->family == AF_INET ? 4 : 16;
}

static void addr_text(const addr *a, char *buf, size_t len)
{
    if (inet_ntop(a->family, a->b, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

static int has_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i]))
            return 1;
    }
    return 0;
}

static int parse_range(const char *text, const char *dash, json_t **out, char *why, size_t len)
{
    const char *a0 = text, *a1 = dash, *b0 = dash + 1, *b1 = text + strlen(text);
    while (a1 > a0 && (a1[-1] == ' ' || a1[-1] == '\t'))
        a1--;
    while (*b0 == ' ' || *b0 == '\t')
        b0++;
    addr a, b;
    if (strchr(dash + 1, '-') != NULL) {
        snprintf(why, len, "'%s' has more than one '-'; a range is FIRST-LAST", text);
        return 0;
    }
    if (!addr_read(a0, (size_t)(a1 - a0), &a) || has_blank(a0, (size_t)(a1 - a0))) {
        snprintf(why, len, "the start of range '%s' is not an IPv4 or IPv6 address", text);
        return 0;
    }
    if (!addr_read(b0, (size_t)(b1 - b0), &b) || has_blank(b0, (size_t)(b1 - b0))) {
        snprintf(why, len, "the end of range '%s' is not an IPv4 or IPv6 address", text);
        return 0;
    }
    if (a.family != b.family) {
        snprintf(why, len, "range '%s' mixes an %s and an %s address; both ends must be of "
                 "one family", text, a.family == AF_INET ? "IPv4" : "IPv6",
                 b.family == AF_INET ? "IPv4" : "IPv6");
        return 0;
    }
    char sa[INET6_ADDRSTRLEN], sb[INET6_ADDRSTRLEN], value[PROV_BG_VALUE_MAX];
    addr_text(&a, sa, sizeof sa);
    addr_text(&b, sb, sizeof sb);
    if (memcmp(a.b, b.b, (size_t)addr_len(&a)) > 0) {
        snprintf(why, len, "range '%s' is reversed: %s comes after %s (did you mean %s-%s?)",
                 text, sa, sb, sb, sa);
        return 0;
    }
    snprintf(value, sizeof value, "%s-%s", sa, sb);
    *out = json_pack("{s:s, s:s, s:n, s:s, s:s}", "kind", "range", "value", value, "net",
                     "start", sa, "end", sb);
    return *out != NULL;
}

static int parse_subnet(const char *text, json_t **out, char *why, size_t len)
{
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    addr a;
    if (!addr_read(text, n, &a)) {
        snprintf(why, len, "'%s' is neither a subnet (ADDRESS/PREFIX, e.g. 10.1.0.0/16 or "
                 "2001:db8::/48) nor a range (FIRST-LAST)", text);
        return 0;
    }
    int bits = addr_len(&a) * 8;
    long long prefix = bits;
    if (slash != NULL && (strlen(slash + 1) > 3 || strspn(slash + 1, "0123456789") !=
                          strlen(slash + 1) || !dpf_parse_int(slash + 1, 0, bits, &prefix))) {
        snprintf(why, len, "the prefix length of '%s' must be a number 0..%d", text, bits);
        return 0;
    }
    addr net = a;
    for (int i = 0; i < addr_len(&a); i++) {
        int keep = (int)prefix - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        net.b[i] = (unsigned char)(a.b[i] & mask);
    }
    char sa[INET6_ADDRSTRLEN], value[PROV_BG_VALUE_MAX];
    addr_text(&net, sa, sizeof sa);
    snprintf(value, sizeof value, "%s/%lld", sa, prefix);
    if (memcmp(net.b, a.b, (size_t)addr_len(&a)) != 0) {
        snprintf(why, len, "%s has host bits set; did you mean %s?", text, value);
        return 0;
    }
    *out = json_pack("{s:s, s:s, s:s, s:n, s:n}", "kind", "subnet", "value", value, "net", value,
                     "start", "end");
    return *out != NULL;
}

int prov_bg_boundary_parse(const char *text, json_t **out, char *why, size_t len)
{
    *out = NULL;
    size_t n = strlen(text);
    if (n == 0) {
        snprintf(why, len, "a boundary must not be empty");
        return 0;
    }
    if (n > 100) {
        snprintf(why, len, "a boundary is at most 100 characters long (this one has %zu)", n);
        return 0;
    }
    if (isspace((unsigned char)text[0]) || isspace((unsigned char)text[n - 1])) {
        snprintf(why, len, "boundary '%s' must not start or end with white space", text);
        return 0;
    }
    const char *dash = strchr(text, '-');
    if (dash != NULL)
        return parse_range(text, dash, out, why, len);
    return parse_subnet(text, out, why, len);
}

int prov_bg_address_parse(const char *text, char *canon, size_t len)
{
    addr a;
    if (text == NULL || has_blank(text, strlen(text)) || !addr_read(text, strlen(text), &a))
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == AF_INET6 && memcmp(a.b, mapped, sizeof mapped) == 0) {
        memmove(a.b, a.b + 12, 4);
        a.family = AF_INET;
    }
    addr_text(&a, canon, len);
    return 1;
}

int prov_bg_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > PROV_GROUP_NAME_MAX)
        return 0;
    return !prov_json_has_control(name, n);
}

/* ---- the body ---- */

static dpf_status f_name(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_text(v, "name", NULL, PROV_GROUP_NAME_MAX, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *t = json_string_value(v);
    if (strlen(t) != n || !prov_bg_name_ok(t))
        return prov_json_fail(err, "name", "name must not contain control characters");
    if (isspace((unsigned char)t[0]) || isspace((unsigned char)t[n - 1]))
        return prov_json_fail(err, "name", "name must not start or end with white space");
    /* ',' separates the DP's canonical group list (its CRC); '/' would
     * make the group unreachable as /v1/boundarygroups/{name} */
    if (strchr(t, ',') != NULL || strchr(t, '/') != NULL)
        return prov_json_fail(err, "name", "name must not contain ',' or '/'");
    s->name = t;
    return DPF_OK;
}

static dpf_status f_description(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    size_t n;
    if (prov_json_string(v, "description", NULL, PROV_DESC_MAX, &n, err) != DPF_OK)
        return DPF_ERR_INVALID;
    if (strlen(json_string_value(v)) != n)
        return prov_json_fail(err, "description", "description must not contain NUL characters");
    s->description = json_string_value(v);
    return DPF_OK;
}

static dpf_status f_site(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    return prov_json_site_code(v, "siteCode", s->site, err);
}

static dpf_status minutes(json_t *v, const char *field, int *out, prov_field_error *err)
{
    if (!json_is_integer(v))
        return prov_json_fail(err, field, "%s must be a whole number of minutes, not %s", field,
                              prov_json_type_name(v));
    json_int_t m = json_integer_value(v);
    if (m < 0 || m > PROV_BG_MINUTES_MAX)
        return prov_json_fail(err, field, "%s must be between 0 and %d minutes", field,
                              PROV_BG_MINUTES_MAX);
    *out = (int)m;
    return DPF_OK;
}

static dpf_status f_fallback(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    return minutes(v, "defaultFallbackMinutes", &s->default_fallback, err);
}

static dpf_status f_site_default(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    if (!json_is_boolean(v))
        return prov_json_fail(err, "siteDefault", "siteDefault must be true or false, not %s",
                              prov_json_type_name(v));
    s->site_default = json_is_true(v);
    return DPF_OK;
}

static dpf_status f_boundaries(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    if (!json_is_array(v))
        return prov_json_fail(err, "boundaries",
                              "boundaries must be an array of subnets and ranges, not "
                              "%s",
                              prov_json_type_name(v));
    if (json_array_size(v) > PROV_BG_BOUNDARIES_MAX)
        return prov_json_fail(err, "boundaries", "at most %d boundaries are allowed in one group",
                              PROV_BG_BOUNDARIES_MAX);
    size_t i;
    json_t *b;
    json_array_foreach(v, i, b) {
        char field[48], why[300];
        snprintf(field, sizeof field, "boundaries[%zu]", i);
        if (!json_is_string(b) || strlen(json_string_value(b)) != json_string_length(b))
            return prov_json_fail(err, field,
                                  "%s must be a string such as \"10.1.0.0/16\" or "
                                  "\"192.168.5.10-192.168.5.50\", not %s",
                                  field, prov_json_type_name(b));
        json_t *one = NULL;
        if (!prov_bg_boundary_parse(json_string_value(b), &one, why, sizeof why))
            return prov_json_fail(err, field, "%s", why);
        const char *value = json_string_value(json_object_get(one, "value"));
        for (size_t k = 0; k < json_array_size(s->boundaries); k++) {
            json_t *prev = json_array_get(s->boundaries, k);
            if (strcmp(json_string_value(json_object_get(prev, "value")), value) == 0) {
                prov_json_fail(err, field, "boundary %s is listed twice (boundaries[%zu])", value,
                               k);
                json_decref(one);
                return DPF_ERR_INVALID;
            }
        }
        json_array_append_new(s->boundaries, one);
    }
    return DPF_OK;
}

static dpf_status neighbor(json_t *n, size_t i, prov_bg_spec *s, prov_field_error *err)
{
    char field[64];
    snprintf(field, sizeof field, "neighbors[%zu]", i);
    if (!json_is_object(n))
        return prov_json_fail(err, field,
                              "%s must be an object {\"name\": ..., \"fallbackMinutes\": ...}, "
                              "not %s",
                              field, prov_json_type_name(n));
    const char *key;
    json_t *v, *name = NULL;
    int fallback = PROV_BG_FALLBACK_DEFAULT;
    json_object_foreach(n, key, v) {
        char sub[112];
        snprintf(sub, sizeof sub, "%s.%.32s", field, key);
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
                !prov_bg_name_ok(json_string_value(v)))
                return prov_json_fail(err, sub,
                                      "%s must be the name of a boundary group (1-%d "
                                      "characters)",
                                      sub, PROV_GROUP_NAME_MAX);
            name = v;
        } else if (strcmp(key, "fallbackMinutes") == 0) {
            dpf_status st = minutes(v, sub, &fallback, err);
            if (st != DPF_OK)
                return st;
        } else {
            return prov_json_fail(err, sub,
                                  "unknown field '%.32s' in %s (expected name, fallbackMinutes)",
                                  key, field);
        }
    }
    if (name == NULL)
        return prov_json_fail(err, field, "%s needs a name", field);
    for (size_t k = 0; k < json_array_size(s->neighbors); k++) {
        json_t *prev = json_object_get(json_array_get(s->neighbors, k), "name");
        if (strcasecmp(json_string_value(prev), json_string_value(name)) == 0)
            return prov_json_fail(err, field, "neighbor '%s' is listed twice",
                                  json_string_value(name));
    }
    json_array_append_new(s->neighbors, json_pack("{s:O, s:i}", "name", name,
                                                  "fallbackMinutes", fallback));
    return DPF_OK;
}

static dpf_status f_neighbors(json_t *v, prov_bg_spec *s, prov_field_error *err)
{
    if (!json_is_array(v))
        return prov_json_fail(err, "neighbors",
                              "neighbors must be an array of {\"name\", "
                              "\"fallbackMinutes\"}, not %s",
                              prov_json_type_name(v));
    if (json_array_size(v) > PROV_BG_NEIGHBORS_MAX)
        return prov_json_fail(err, "neighbors", "at most %d neighbors are allowed",
                              PROV_BG_NEIGHBORS_MAX);
    size_t i;
    json_t *n;
    json_array_foreach(v, i, n) {
        dpf_status st = neighbor(n, i, s, err);
        if (st != DPF_OK)
            return st;
    }
    return DPF_OK;
}

static const struct bg_field {
    const char *name;
    unsigned bit;
    dpf_status (*parse)(json_t *v, prov_bg_spec *s, prov_field_error *err);
} FIELDS[] = {
    {"name", PROV_BG_F_NAME, f_name},
    {"description", PROV_BG_F_DESCRIPTION, f_description},
    {"siteCode", PROV_BG_F_SITE, f_site},
    {"boundaries", PROV_BG_F_BOUNDARIES, f_boundaries},
    {"neighbors", PROV_BG_F_NEIGHBORS, f_neighbors},
    {"siteDefault", PROV_BG_F_SITE_DEFAULT, f_site_default},
    {"defaultFallbackMinutes", PROV_BG_F_FALLBACK, f_fallback},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

static dpf_status field(const char *key, json_t *v, prov_bg_mode mode, prov_bg_spec *s,
                        prov_field_error *err)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (strcmp(FIELDS[i].name, key) != 0)
            continue;
        if (mode == PROV_BG_UPDATE && (FIELDS[i].bit & (PROV_BG_F_NAME | PROV_BG_F_SITE)))
            return prov_json_fail(err, key,
                                  "%s cannot be changed; create a new boundary group instead", key);
        s->present |= FIELDS[i].bit;
        return FIELDS[i].parse(v, s, err);
    }
    return prov_json_fail(err, key,
                          "unknown field '%.64s' (expected name, description, siteCode, "
                          "boundaries, neighbors, siteDefault, defaultFallbackMinutes)",
                          key);
}

dpf_status prov_bg_spec_parse(const char *body, size_t len, prov_bg_mode mode, const char *self,
                              prov_bg_spec *out, prov_field_error *err)
{
    dpf_status st;
    memset(out, 0, sizeof *out);
    json_t *doc = prov_json_load_object(body, len, err, &st);
    if (doc == NULL)
        return st;
    out->doc = doc;
    out->description = "";
    snprintf(out->site, sizeof out->site, "%s", PROV_BG_DEFAULT_SITE);
    out->default_fallback = PROV_BG_FALLBACK_DEFAULT;
    out->boundaries = json_array();
    out->neighbors = json_array();
    const char *key;
    json_t *v;
    st = DPF_OK;
    json_object_foreach(doc, key, v) {
        if ((st = field(key, v, mode, out, err)) != DPF_OK)
            goto bad;
    }
    if (mode == PROV_BG_CREATE && !(out->present & PROV_BG_F_NAME)) {
        st = prov_json_fail(err, "name", "name is required");
        goto bad;
    }
    if (mode == PROV_BG_UPDATE && out->present == 0) {
        st = prov_json_fail(err, "",
                            "nothing to change: give at least one of description, boundaries, "
                            "neighbors, siteDefault, defaultFallbackMinutes");
        goto bad;
    }
    if (mode == PROV_BG_CREATE || self == NULL)
        self = out->name;
    for (size_t i = 0; i < json_array_size(out->neighbors); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(out->neighbors, i),
                                                          "name"));
        if (self != NULL && strcasecmp(n, self) == 0) {
            char f[48];
            snprintf(f, sizeof f, "neighbors[%zu]", i);
            st = prov_json_fail(err, f, "boundary group '%s' cannot be its own neighbor", self);
            goto bad;
        }
    }
    return DPF_OK;
bad:
    prov_bg_spec_clear(out);
    return st;
}

void prov_bg_spec_clear(prov_bg_spec *s)
{
    json_decref(s->boundaries);
    json_decref(s->neighbors);
    json_decref(s->doc);
    memset(s, 0, sizeof *s);
}
