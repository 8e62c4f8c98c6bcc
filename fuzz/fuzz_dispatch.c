/* libFuzzer target: dpagent's request handling without NATS: dpa_dispatch
 * (dispatch.c) decodes the bytes of an agent.<FQDN>.step request, refuses
 * a foreign FQDN or an unknown step, runs the step against a host root in
 * a temporary directory and encodes the reply. The steps that reach out of
 * the process (enable_http starts a listening server, content_pull
 * downloads from the URL the request names) are decoded and refused here
 * before dispatch, so a run never touches the network. Asserted: a reply
 * always comes back, decodes as an AgentReply naming the host, and carries
 * a reason whenever it says ok=0. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/agent.h>

#include "dispatch.h"
#include "dpagent.h"
#include "fuzz_util.h"
#include "dpfleet.pb-c.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FQDN "DP1.EXAMPLE.COM"

static dpa_agent agent = {.verify = NULL, .http_addr = "127.0.0.1"};
static dpa_host host;

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    fuzz_init_once("SMS_DP_AGENT");
    const char *tmpl = fuzz_make_tmpdir("fuzz_dispatch");
    host.agent = &agent;
    snprintf(host.fqdn, sizeof host.fqdn, "%s", FQDN);
    snprintf(host.root, sizeof host.root, "%s/%s", tmpl, FQDN);
    if (mkdir(host.root, 0700) != 0)
        abort();
}

/* 1 for a request whose step would leave the process. */
static int reaches_out(const uint8_t *data, size_t size)
{
    Dpf__AgentRequest *req = dpf__agent_request__unpack(NULL, size, data);
    if (req == NULL)
        return 0;
    int out = req->step != NULL && (strcmp(req->step, DPF_STEP_ENABLE_HTTP) == 0 ||
                                    strcmp(req->step, DPF_STEP_CONTENT_PULL) == 0 ||
                                    strcmp(req->step, DPF_STEP_CONFIGURE_PULLDP) == 0);
    dpf__agent_request__free_unpacked(req, NULL);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (reaches_out(data, size))
        return 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    CHECK(dpa_dispatch(&host, data, size, &reply, &reply_len) == DPF_OK);
    Dpf__AgentReply *r = dpf__agent_reply__unpack(NULL, reply_len, reply);
    CHECK(r != NULL);
    CHECK(r->fqdn != NULL && strcmp(r->fqdn, FQDN) == 0);
    CHECK(r->ok || (r->error != NULL && r->error[0] != '\0'));
    dpf__agent_reply__free_unpacked(r, NULL);
    free(reply);
    return 0;
}
