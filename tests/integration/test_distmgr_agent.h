/* A fake dpagent for distmgr's integration test: serves agent.<FQDN>.step
 * for a set of hosts, records every request, answers ok (or fails a chosen
 * step), optionally slowly, and measures how many requests are in flight at
 * once across all hosts. */
#ifndef TEST_DISTMGR_AGENT_H
#define TEST_DISTMGR_AGENT_H

#include <stddef.h>
#include <dpf/bus.h>

typedef struct fake_agent fake_agent;

/* Serves every fqdn (upper case) on bus. 0 on success. */
int fa_start(dpf_bus *bus, const char *const *fqdns, int n, fake_agent **out);
/* Waits for delayed replies to go out, unsubscribes, frees. */
void fa_stop(fake_agent *fa);

/* Every reply waits this long (on its own thread, so hosts answer in parallel). */
void fa_set_delay(fake_agent *fa, int ms);
/* Every reply but configure_pxe's carries content_url = url ("" = none, the
 * default), as a dpagent whose content server runs. */
void fa_set_content_url(fake_agent *fa, const char *url);
/* The next `times` requests for step on fqdn reply ok=0 with error. */
void fa_fail(fake_agent *fa, const char *fqdn, const char *step, int times, const char *error);

/* Requests seen for fqdn (and step, unless NULL). */
int fa_count(fake_agent *fa, const char *fqdn, const char *step);
/* Steps of fqdn in arrival order, comma-separated, into out. */
void fa_steps(fake_agent *fa, const char *fqdn, char *out, size_t len);
/* A param of the last request for step on fqdn ("" if absent); 1 if such a request exists. */
int fa_param(fake_agent *fa, const char *fqdn, const char *step, const char *key, char *out,
             size_t len);
/* Correlation id, file count, manifest and signature sizes of the last request for step. */
int fa_request_info(fake_agent *fa, const char *fqdn, const char *step, char *corr,
                    size_t corrlen, int *nfiles, size_t *manifest_len, size_t *sig_len);

/* Most requests in flight at once, across all hosts, since the last reset. */
int fa_max_inflight(fake_agent *fa);
/* Most requests in flight at once for one host (two replicas on one DP would show 2). */
int fa_max_inflight_per_host(fake_agent *fa);
void fa_reset_max(fake_agent *fa);

/* dpf_mono_us() when the nth (1-based) request for step on fqdn arrived, -1 if none. */
long long fa_time_us(fake_agent *fa, const char *fqdn, const char *step, int nth);

#endif
