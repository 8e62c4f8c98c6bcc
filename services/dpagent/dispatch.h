/* dpagent's one dispatch point: a step name to its handler, one line per
 * step, and the request -> reply round trip around it. */
#ifndef DPA_DISPATCH_H
#define DPA_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include "dpagent.h"

typedef struct dpa_step_def {
    const char *name;   /* DPF_STEP_* */
    dpa_step_fn fn;
    dpa_step_kind kind;
} dpa_step_def;

/* The entry for name, or NULL. name borrowed. */
const dpa_step_def *dpa_dispatch_find(const char *name);

/* Number of entries and the i-th one (for tests and --help). */
size_t dpa_dispatch_count(void);
const dpa_step_def *dpa_dispatch_at(size_t i);

/* Decodes data as an AgentRequest for host h, runs the step and encodes the
 * AgentReply into *reply (malloc'd, owned by the caller). Never fails on
 * bad input: undecodable bytes, a foreign FQDN or an unknown step produce
 * a reply with ok=0 and the reason. Returns DPF_ERR_NOMEM only when no
 * reply could be built at all. */
dpf_status dpa_dispatch(dpa_host *h, const void *data, size_t len, uint8_t **reply,
                        size_t *reply_len) DPF_MUSTCHECK;

#endif
