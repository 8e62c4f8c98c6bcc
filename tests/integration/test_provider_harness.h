/* Shared harness of the provider's integration tests (see the .c). Each
 * test program calls ph_setup/ph_teardown from its group setup/teardown. */
#ifndef TEST_PROVIDER_HARNESS_H
#define TEST_PROVIDER_HARNESS_H

#include <stddef.h>
#include <sys/types.h>
#include <curl/curl.h>
#include <jansson.h>
#include <dpf/db.h>

extern char g_url[1024]; /* the test database */
extern char g_api[96];   /* http://127.0.0.1:PORT */
extern char g_log[256];  /* the provider's log file */
extern dpf_db *g_db;     /* a connection for assertions */

/* API tokens made by ph_setup with "provider issue-token", one per role:
 * PH_FULL (user CONTOSO\Admin, also exported as DPFLEET_TOKEN for dpctl),
 * PH_INFRA (CONTOSO\Infra), PH_APP (CONTOSO\App), PH_READ (CONTOSO\Reader). */
enum { PH_FULL, PH_INFRA, PH_APP, PH_READ, PH_NROLES };
extern char g_token[PH_NROLES][64];
extern const char *const PH_ROLE[PH_NROLES]; /* "Full Administrator", ... */
/* Runs PROVIDER_BIN issue-token with these arguments (NULL-terminated,
 * after "issue-token") and DATABASE_URL = g_url; returns its exit code,
 * its stdout (the id) into out when out is not NULL. */
int ph_issue_token(const char *const *args, char *out, size_t out_len);

/* Creates database dbname, starts the provider, waits for /readyz 200. */
int ph_setup(const char *dbname);
/* Stops the provider (must exit 0 on SIGTERM), drops the database. */
int ph_teardown(void);

typedef struct resp {
    long status;
    char *body;
    size_t len;
    char corr[128];
    char allow[128];
    char next_after[256]; /* X-Next-After of a paged list, "" if none */
    char www_auth[128];   /* WWW-Authenticate, "" if none */
    json_t *json;
} resp;

/* headers: NULL-terminated list or NULL. Fails the test if no answer.
 * Sends "Authorization: Bearer <g_token[PH_FULL]>" unless headers name
 * Authorization ("Authorization:" alone sends none). */
void http(const char *method, const char *path, const char *body, size_t body_len,
          const char *const *headers, resp *r);
void resp_free(resp *r);
/* POST /v1/distributionpoints as CONTOSO\Admin from test_provider_api. */
void post(const char *json, resp *r);
const char *jstr(json_t *o, const char *key);
/* An error answer: the status, JSON with "error", the correlation id, the field. */
void assert_json_error(resp *r, long status, const char *field);

long long sql_int(const char *sql, int n, const char *const *params);
char *sql_text(const char *sql, int n, const char *const *params); /* malloc'd */

/* Row counts of everything a DP change may touch. */
#define NCOUNTS 9
void counts(long long out[NCOUNTS]);
int log_contains(const char *needle);

int free_port(void);
pid_t spawn_provider(const char *db_url, const char *listen, const char *log);
long wait_health(const char *api, long want);
int stop_provider(pid_t pid);
void nap_ms(long ms);

#endif
