/* Helpers every request body check uses (json_in.h). They were copied into
 * each validate_*.c; one copy keeps the words an administrator reads in
 * dpctl's output the same for every endpoint. */
#include "json_in.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>

static dpf_status verror(prov_field_error *err, dpf_status st, const char *field,
                         const char *fmt, va_list ap) DPF_PRINTF(4, 0);

static dpf_status verror(prov_field_error *err, dpf_status st, const char *field,
                         const char *fmt, va_list ap)
{
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return st;
}

dpf_status prov_json_error(prov_field_error *err, dpf_status st, const char *field,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st = verror(err, st, field, fmt, ap);
    va_end(ap);
    return st;
}

dpf_status prov_json_fail(prov_field_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dpf_status st = verror(err, DPF_ERR_INVALID, field, fmt, ap);
    va_end(ap);
    return st;
}

const char *prov_json_type_name(const json_t *v)
{
    if (v == NULL)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static dpf_status too_long(const char *field, size_t max, size_t len, prov_field_error *err)
{
    if (max > 0 && len > max)
        return prov_json_fail(err, field, "%s is %zu bytes long; at most %zu are allowed", field,
                              len, max);
    return DPF_OK;
}

dpf_status prov_json_string(const json_t *v, const char *field, const char *what, size_t max,
                            size_t *len, prov_field_error *err)
{
    *len = 0;
    if (!json_is_string(v)) {
        if (what != NULL)
            return prov_json_fail(err, field, "%s must be a string (%s), not %s", field, what,
                                  prov_json_type_name(v));
        return prov_json_fail(err, field, "%s must be a string, not %s", field,
                              prov_json_type_name(v));
    }
    *len = json_string_length(v);
    return too_long(field, max, *len, err);
}

dpf_status prov_json_text(const json_t *v, const char *field, const char *what, size_t max,
                          size_t *len, prov_field_error *err)
{
    dpf_status st = prov_json_string(v, field, what, 0, len, err);
    if (st == DPF_OK && *len == 0)
        return prov_json_fail(err, field, "%s must not be empty", field);
    return st == DPF_OK ? too_long(field, max, *len, err) : st;
}

dpf_status prov_json_site_code(const json_t *v, const char *field, char out[4],
                               prov_field_error *err)
{
    char code[4];
    if (json_is_string(v) && json_string_length(v) == 3) {
        for (int i = 0; i < 3; i++)
            code[i] = (char)toupper((unsigned char)json_string_value(v)[i]);
        code[3] = '\0';
        if (dpf_site_code_valid(code)) {
            memcpy(out, code, sizeof code);
            return DPF_OK;
        }
    }
    return prov_json_fail(err, field, "%s must be exactly 3 letters or digits (e.g. PS1)", field);
}

int prov_json_has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

json_t *prov_json_load_object(const char *body, size_t len, prov_field_error *err,
                              dpf_status *st)
{
    memset(err, 0, sizeof *err);
    if (body == NULL || len == 0) {
        *st = prov_json_error(err, DPF_ERR_DECODE, "",
                              "the request body is empty; expected a JSON object");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        *st = prov_json_error(err, DPF_ERR_DECODE, "", "malformed JSON at line %d, column %d: %s",
                              jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        *st = prov_json_fail(err, "", "the body must be a JSON object, not %s",
                             prov_json_type_name(doc));
        json_decref(doc);
        return NULL;
    }
    return doc;
}
