/* The start-up and waiting every service shares, so that dbmon, hman and
 * distmgr come up the same way: one retry schedule and one set of log lines
 * for a database or NATS that is not there yet; and the memory settings
 * every service runs with (issue 8: every service under 20 MB resident with
 * 5,000 DPs): few malloc arenas. */
#include "dpf/daemon.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dpf/log.h"
#include "dpf/util.h"

#define RETRY_FIRST_MS 500

dpf_status dpf_daemon_start(const char *prog, const char *component, const dpf_option *opts,
                             int argc, char **argv, int *exit_code)
{
    char err[512];
    dpf_status st = dpf_config_parse(opts, argc, argv, err, sizeof err);
    if (st != DPF_OK) {
        *exit_code = 0; /* --help */
        if (st != DPF_HELP_SHOWN) {
            fprintf(stderr, "%s: %s\n", prog, err);
            *exit_code = 2;
        }
        dpf_config_free(opts);
        return st;
    }
    *exit_code = 0;
    /* glibc gives threads up to 8 arenas per core (16 here), each keeping
     * its own free memory; the services' threads wait on the network and
     * the database, not on malloc's lock. MALLOC_ARENA_MAX still wins. */
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, DPF_DAEMON_ARENAS);
    dpf_log_init(component);
    dpf_handle_signals();
    return DPF_OK;
}

int dpf_daemon_nap(int ms)
{
    for (int left = ms; left > 0; left -= 100) {
        if (dpf_stopping())
            return 0;
        struct timespec ts = {0, (left < 100 ? left : 100) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !dpf_stopping();
}

void dpf_daemon_wait_stop(void)
{
    while (dpf_daemon_nap(1000))
        ;
}

static int next_wait(int ms, int max_ms)
{
    ms *= 2;
    return ms > max_ms ? max_ms : ms;
}

dpf_db *dpf_daemon_connect_db(const char *url, int max_wait_ms, dpf_daemon_db_ready ready,
                               void *arg)
{
    int wait = RETRY_FIRST_MS;
    while (!dpf_stopping()) {
        dpf_db *db = NULL;
        if (dpf_db_connect(url, &db) == DPF_OK) {
            if (ready == NULL || ready(db, arg) == DPF_OK)
                return db;
            dpf_db_destroy(db);
        }
        DPF_WARN("Cannot reach the database yet; retrying in %d ms", wait);
        dpf_daemon_nap(wait);
        wait = next_wait(wait, max_wait_ms);
    }
    return NULL;
}

dpf_bus *dpf_daemon_connect_bus(const char *url, const char *name, int max_wait_ms)
{
    int wait = RETRY_FIRST_MS;
    while (!dpf_stopping()) {
        dpf_bus *bus = NULL;
        dpf_status st = dpf_bus_connect(url, name, &bus);
        if (st == DPF_OK) {
            st = dpf_bus_ensure_streams(bus);
            if (st == DPF_OK)
                return bus;
            DPF_WARN("Cannot create the JetStream streams: %s", dpf_status_text(st));
            dpf_bus_destroy(bus);
        }
        DPF_WARN("Cannot reach NATS at %s yet; retrying in %d ms", url, wait);
        dpf_daemon_nap(wait);
        wait = next_wait(wait, max_wait_ms);
    }
    return NULL;
}
