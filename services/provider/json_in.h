/* The provider's JSON input: loading a request body and filling the field
 * error an API answer carries ({"error": message, "field": field}). Shared
 * by every validate_*.c, so each body is refused with the same words. */
#ifndef PROV_JSON_IN_H
#define PROV_JSON_IN_H

#include <stddef.h>
#include <jansson.h>
#include <dpf/status.h>

/* Which field is wrong and why, for {"error": message, "field": field}.
 * field is "" when the body as a whole is wrong (malformed JSON). */
typedef struct prov_field_error {
    char field[96];
    char message[384];
} prov_field_error;

/* Fills err (field NULL reads as "") and returns st. */
dpf_status prov_json_error(prov_field_error *err, dpf_status st, const char *field,
                           const char *fmt, ...) DPF_PRINTF(4, 5);

/* prov_json_error with DPF_ERR_INVALID: a field that breaks a rule. */
dpf_status prov_json_fail(prov_field_error *err, const char *field, const char *fmt, ...)
    DPF_PRINTF(3, 4);

/* "an object", "an array", "a string", ... for "must be X, not Y" messages;
 * "nothing" for NULL. Static storage. */
const char *prov_json_type_name(const json_t *v);

/* v as a string of at most max bytes (0: any length): DPF_OK with its
 * length in *len, or DPF_ERR_INVALID naming field: "<field> must be a
 * string[ (<what>)], not <type>" (what may be NULL), or "<field> is <n>
 * bytes long; at most <max> are allowed". */
dpf_status prov_json_string(const json_t *v, const char *field, const char *what, size_t max,
                            size_t *len, prov_field_error *err) DPF_MUSTCHECK;

/* prov_json_string, and not empty: "<field> must not be empty" (checked
 * before the length). */
dpf_status prov_json_text(const json_t *v, const char *field, const char *what, size_t max,
                          size_t *len, prov_field_error *err) DPF_MUSTCHECK;

/* A site code field: v a string of exactly 3 of [A-Za-z0-9], upper-cased
 * into out; otherwise DPF_ERR_INVALID, "<field> must be exactly 3 letters
 * or digits (e.g. PS1)" (also for a v that is no string: callers that name
 * the type check with prov_json_string first). */
dpf_status prov_json_site_code(const json_t *v, const char *field, char out[4],
                               prov_field_error *err) DPF_MUSTCHECK;

/* 1 if s (n bytes) holds a control character (below 0x20, or DEL). */
int prov_json_has_control(const char *s, size_t n);

/* body (len bytes, need not be NUL-terminated) as a JSON object without
 * duplicate keys, owned by the caller (json_decref). err is cleared first;
 * *st is set only on failure: NULL with err filled and *st DPF_ERR_DECODE
 * (empty or not JSON: the message carries jansson's line and column) or
 * DPF_ERR_INVALID (JSON, but not an object). */
json_t *prov_json_load_object(const char *body, size_t len, prov_field_error *err,
                              dpf_status *st);

#endif
