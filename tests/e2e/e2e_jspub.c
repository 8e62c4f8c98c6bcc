/* e2e_jspub SUBJECT TEXT: publishes TEXT as raw bytes to JetStream, so the
 * end-to-end tests can put garbage on a subject and watch the services
 * terminate it and go on. NATS_URL from the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/bus.h>
#include <dpf/log.h>

int main(int argc, char **argv)
{
    dpf_bus *bus = NULL;
    const char *url = getenv("NATS_URL");

    if (argc != 3 || url == NULL) {
        fprintf(stderr, "usage: NATS_URL=... e2e_jspub SUBJECT TEXT\n");
        return 2;
    }
    dpf_log_init("E2E_JSPUB");
    if (dpf_bus_connect(url, "e2e_jspub", &bus) != DPF_OK)
        return 1;
    dpf_status s = dpf_bus_publish(bus, argv[1], argv[2], strlen(argv[2]), NULL, "e2e-garbage");
    dpf_bus_destroy(bus);
    if (s != DPF_OK) {
        fprintf(stderr, "publish to %s failed: %s\n", argv[1], dpf_status_text(s));
        return 1;
    }
    return 0;
}
