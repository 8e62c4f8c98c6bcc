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

/* "an object", "an array", "a string", ... for "must be X, not Y" messages.
 * Static storage. */
const char *prov_json_type_name(const json_t *v);

/* body (len bytes, need not be NUL-terminated) as a JSON object without
 * duplicate keys, owned by the caller (json_decref). NULL when it is not,
 * with err filled and *st DPF_ERR_DECODE (empty or not JSON: the message
 * carries jansson's line and column) or DPF_ERR_INVALID (JSON, but not an
 * object). */
json_t *prov_json_load_object(const char *body, size_t len, prov_field_error *err,
                              dpf_status *st);

#endif
