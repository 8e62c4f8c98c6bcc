/* Field checks of the two maintenance mode bodies. Both share one walk over
 * the object with a small table per body; a message names the field and the
 * rule, as in validate_dp.c. */
#include "validate_maint.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The object of body, or NULL with err filled. Owned by the caller. out
 * and err are cleared first. */
static json_t *load(const char *body, size_t len, prov_maint_body *out, prov_field_error *err,
                    dpf_status *st)
{
    memset(out, 0, sizeof *out);
    json_t *doc = prov_json_load_object(body, len, err, st);
    /* these bodies' message has never named the type that came instead */
    if (doc == NULL && *st == DPF_ERR_INVALID)
        prov_json_fail(err, "", "the body must be a JSON object");
    return doc;
}

/* Every key of doc must be one of names (NULL-terminated). */
static dpf_status only(json_t *doc, const char *const *names, const char *expected,
                       prov_field_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        int known = 0;
        for (size_t i = 0; names[i] != NULL && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (!known)
            return prov_json_fail(err, key, "unknown field '%.64s' (expected %s)", key, expected);
    }
    return DPF_OK;
}

static dpf_status boolean(json_t *doc, const char *name, int required, int *out,
                          prov_field_error *err)
{
    json_t *v = json_object_get(doc, name);
    if (v == NULL) {
        if (required)
            return prov_json_fail(err, name, "%s is required (true or false)", name);
        *out = 0;
        return DPF_OK;
    }
    if (!json_is_boolean(v))
        return prov_json_fail(err, name, "%s must be true or false", name);
    *out = json_is_true(v);
    return DPF_OK;
}

dpf_status prov_maint_body_parse(const char *body, size_t len, prov_maint_body *out,
                                 prov_field_error *err)
{
    static const char *const names[] = {"enabled", "force", NULL};
    dpf_status st = DPF_OK;
    json_t *doc = load(body, len, out, err, &st);
    if (doc == NULL)
        return st;
    if ((st = only(doc, names, "enabled, force", err)) == DPF_OK &&
        (st = boolean(doc, "enabled", 1, &out->enable, err)) == DPF_OK)
        st = boolean(doc, "force", 0, &out->force, err);
    json_decref(doc);
    return st;
}

dpf_status prov_setdpmm_body_parse(const char *body, size_t len, prov_maint_body *out,
                                   prov_field_error *err)
{
    static const char *const names[] = {"NALPath", "Mode", "Force", NULL};
    dpf_status st = DPF_OK;
    json_t *doc = load(body, len, out, err, &st);
    if (doc == NULL)
        return st;
    json_t *nal = json_object_get(doc, "NALPath");
    json_t *mode = json_object_get(doc, "Mode");
    if ((st = only(doc, names, "NALPath, Mode, Force", err)) != DPF_OK)
        goto out;
    if (nal == NULL || !json_is_string(nal) || json_string_length(nal) == 0) {
        st = prov_json_fail(err, "NALPath",
                            "NALPath is required: the DP's NAL path, "
                            "a non-empty string");
        goto out;
    }
    if (json_string_length(nal) >= sizeof out->nal) {
        st = prov_json_fail(err, "NALPath", "NALPath is %zu bytes long; at most %zu",
                            json_string_length(nal), sizeof out->nal - 1);
        goto out;
    }
    if (mode == NULL || !json_is_integer(mode) ||
        (json_integer_value(mode) != 0 && json_integer_value(mode) != 1)) {
        st = prov_json_fail(err, "Mode",
                            "Mode must be 1 (enable maintenance mode) or "
                            "0 (disable it)");
        goto out;
    }
    snprintf(out->nal, sizeof out->nal, "%s", json_string_value(nal));
    out->enable = json_integer_value(mode) == 1;
    st = boolean(doc, "Force", 0, &out->force, err);
out:
    json_decref(doc);
    return st;
}
