/* dpf_db_url_masked (issue 9, item 7): a DATABASE_URL's password never
 * reaches a log line. The URI and keyword forms libpq accepts, a password
 * holding '@', ':' or a quote, a URL without one left as it is, a buffer
 * too small, and the line dpf_db_connect logs when it cannot connect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/db.h>

#include "dpf_capture.h"

static void expect_masked(const char *url, const char *want)
{
    char buf[256];
    const char *got = dpf_db_url_masked(url, buf, sizeof buf);
    assert_ptr_equal(got, buf);
    assert_string_equal(got, want);
}

static void test_uri_password(void **state)
{
    (void)state;
    expect_masked("postgresql://dpfleet_hman:s3cret@db.contoso.com:5432/dpfleet",
                  "postgresql://dpfleet_hman@db.contoso.com:5432/dpfleet");
    expect_masked("postgres://u:s3cret@h/db", "postgres://u@h/db");
    /* an unencoded '@' or ':' in the password goes with the rest */
    expect_masked("postgresql://u:p@ss:w0rd@h:5432/db", "postgresql://u@h:5432/db");
    expect_masked("postgresql://u:@h/db", "postgresql://u@h/db");
}

static void test_uri_query_password(void **state)
{
    (void)state;
    expect_masked("postgresql://u@h/db?sslmode=require&password=s3cret&connect_timeout=5",
                  "postgresql://u@h/db?sslmode=require&password=****&connect_timeout=5");
    expect_masked("postgresql://h/db?password=s3cret", "postgresql://h/db?password=****");
    expect_masked("postgresql://u@h/db?sslpassword=k3y", "postgresql://u@h/db?sslpassword=****");
    expect_masked("postgresql://u:a@h/db?password=b#frag", "postgresql://u@h/db?password=****#frag");
}

static void test_keywords(void **state)
{
    (void)state;
    expect_masked("host=db user=dpfleet_provider password=s3cret dbname=dpfleet",
                  "host=db user=dpfleet_provider password=**** dbname=dpfleet");
    /* quoted, with libpq's backslash escapes */
    expect_masked("password = 'it\\'s a \\\\ secret' host=db", "password = **** host=db");
    expect_masked("host=db sslpassword=k3y", "host=db sslpassword=****");
    /* "password" as a value is not the keyword */
    expect_masked("user=password host=db", "user=password host=db");
}

static void test_no_password_unchanged(void **state)
{
    (void)state;
    expect_masked("postgresql://postgres@127.0.0.1:5432/postgres",
                  "postgresql://postgres@127.0.0.1:5432/postgres");
    expect_masked("postgresql://127.0.0.1:5432/postgres", "postgresql://127.0.0.1:5432/postgres");
    expect_masked("host=/tmp dbname=x", "host=/tmp dbname=x");
    expect_masked("", "");
    char buf[8] = "junk";
    assert_string_equal(dpf_db_url_masked(NULL, buf, sizeof buf), "");
}

static void test_small_buffer_cut_after_masking(void **state)
{
    (void)state;
    char buf[19];
    const char *got = dpf_db_url_masked("postgresql://u:s3cretpassword@h/db", buf, sizeof buf);
    assert_int_equal(strlen(got), sizeof buf - 1);
    assert_null(strstr(got, "s3c"));
    assert_string_equal(got, "postgresql://u@h/d");
}

/* log scanners (tests/e2e/e2e_secrets.sh) look for scheme://user:secret@ */
static void test_masked_uri_has_no_userinfo_password(void **state)
{
    (void)state;
    char buf[256];
    const char *got = dpf_db_url_masked("postgresql://u:pw@h/db?password=x", buf, sizeof buf);
    const char *at = strchr(got, '@');
    assert_non_null(at);
    assert_null(memchr(got + 13, ':', (size_t)(at - got - 13)));
}

static void test_connect_failure_log_is_masked(void **state)
{
    (void)state;
    dpf_db *db = NULL;
    dpf_capture_begin();
    /* port 1 on loopback: refused at once */
    dpf_status st = dpf_db_connect("postgresql://dpfleet_dbmon:s3cret@127.0.0.1:1/dpfleet", &db);
    char *log = dpf_capture_end();
    assert_int_equal(st, DPF_ERR_DB);
    assert_null(db);
    assert_non_null(strstr(log, "could not connect to PostgreSQL (postgresql://dpfleet_dbmon@127.0.0.1:1/dpfleet)"));
    assert_null(strstr(log, "s3cret"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_password),
        cmocka_unit_test(test_uri_query_password),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_no_password_unchanged),
        cmocka_unit_test(test_small_buffer_cut_after_masking),
        cmocka_unit_test(test_masked_uri_has_no_userinfo_password),
        cmocka_unit_test(test_connect_failure_log_is_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
