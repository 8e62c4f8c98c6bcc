/* dpagent's one dispatch point: a step name to its handler, one line per
 * step, and the request -> reply round trip around it. */
#ifndef DPA_DISPATCH_H
#define DPA_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/stepsig.h>
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

/* From now on every request must be signed by v's key (dpf/stepsig.h),
 * within its window and with a nonce host i (dpa_host.index < nhosts) has
 * not seen; any other is refused with ok=0, the reason and a log line.
 * v borrowed until dpa_dispatch_require_signed(NULL, 0), which frees the
 * nonce memories. Call before serving, never while requests run. */
dpf_status dpa_dispatch_require_signed(const dpf_stepsig_verifier *v, size_t nhosts);

/* Decodes data as an AgentRequest for host h, runs the step and encodes the
 * AgentReply into *reply (malloc'd, owned by the caller). Never fails on
 * bad input: undecodable bytes, a bad signature, a foreign FQDN or an unknown step produce
 * a reply with ok=0 and the reason. Returns DPF_ERR_NOMEM only when no
 * reply could be built at all. */
dpf_status dpa_dispatch(dpa_host *h, const void *data, size_t len, uint8_t **reply,
                        size_t *reply_len) DPF_MUSTCHECK;

#endif
