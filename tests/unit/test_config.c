/* config: defaults, environment, command line precedence, bounds, booleans,
 * strings, unknown options and --help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/config.h>

static int thread_limit;
static int remove_limit;
static int verbose;
static char *db_url;
static char *name;

static const dpf_option opts[] = {
    DPF_OPT_INT("DPUpgradeThreadLimit", "TEST_DP_UPGRADE_THREAD_LIMIT", &thread_limit, 50, 1,
                1000, "workers that install or upgrade DPs at once"),
    DPF_OPT_INT("DPRemoveThreadLimit", "TEST_DP_REMOVE_THREAD_LIMIT", &remove_limit, 1, 1, 64,
                "DPs removed at once"),
    DPF_OPT_BOOL("Verbose", "TEST_VERBOSE", &verbose, 0, "log more"),
    DPF_OPT_STRING("DatabaseUrl", "TEST_DATABASE_URL", &db_url, "postgresql:///dpfleet",
                   "PostgreSQL URL"),
    DPF_OPT_STRING("Name", NULL, &name, NULL, "no default"),
    DPF_OPT_END,
};

static int clear_env(void **state)
{
    unsetenv("TEST_DP_UPGRADE_THREAD_LIMIT");
    unsetenv("TEST_DP_REMOVE_THREAD_LIMIT");
    unsetenv("TEST_VERBOSE");
    unsetenv("TEST_DATABASE_URL");
    return 0;
}

static int free_config(void **state)
{
    dpf_config_free(opts);
    return clear_env(state);
}

#define ARGV(...) ((char *[]){"svc", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"svc", __VA_ARGS__}) / sizeof(char *)))

static void test_defaults(void **state)
{
    char err[256];
    char *argv[] = {"svc", NULL};
    assert_int_equal(dpf_config_parse(opts, 1, argv, err, sizeof err), DPF_OK);
    assert_int_equal(thread_limit, 50);
    assert_int_equal(remove_limit, 1);
    assert_int_equal(verbose, 0);
    assert_string_equal(db_url, "postgresql:///dpfleet");
    assert_null(name);
}

static void test_environment(void **state)
{
    char err[256];
    char *argv[] = {"svc", NULL};
    setenv("TEST_DP_UPGRADE_THREAD_LIMIT", "7", 1);
    setenv("TEST_VERBOSE", "yes", 1);
    setenv("TEST_DATABASE_URL", "postgresql://db/x", 1);
    assert_int_equal(dpf_config_parse(opts, 1, argv, err, sizeof err), DPF_OK);
    assert_int_equal(thread_limit, 7);
    assert_int_equal(verbose, 1);
    assert_string_equal(db_url, "postgresql://db/x");
}

static void test_argv_beats_environment(void **state)
{
    char err[256];
    setenv("TEST_DP_UPGRADE_THREAD_LIMIT", "7", 1);
    setenv("TEST_DATABASE_URL", "postgresql://db/x", 1);
    char **argv = ARGV("--DPUpgradeThreadLimit", "9", "--databaseurl=postgresql://cli/y",
                       "--Name", "PS1");
    int argc = ARGC("--DPUpgradeThreadLimit", "9", "--databaseurl=postgresql://cli/y",
                    "--Name", "PS1");
    assert_int_equal(dpf_config_parse(opts, argc, argv, err, sizeof err), DPF_OK);
    assert_int_equal(thread_limit, 9);
    assert_string_equal(db_url, "postgresql://cli/y");
    assert_string_equal(name, "PS1");
    assert_int_equal(remove_limit, 1);
}

static void expect_error(int argc, char **argv, const char *text)
{
    char err[256];
    assert_int_equal(dpf_config_parse(opts, argc, argv, err, sizeof err), DPF_ERR_INVALID);
    if (strstr(err, text) == NULL)
        fail_msg("error '%s' does not contain '%s'", err, text);
    /* strings are released on error */
    assert_null(db_url);
}

static void test_bounds(void **state)
{
    expect_error(ARGC("--DPUpgradeThreadLimit", "0"), ARGV("--DPUpgradeThreadLimit", "0"),
                 "DPUpgradeThreadLimit: 0 is below the minimum 1");
    expect_error(ARGC("--DPUpgradeThreadLimit=1001"), ARGV("--DPUpgradeThreadLimit=1001"),
                 "DPUpgradeThreadLimit: 1001 is above the maximum 1000");
    expect_error(ARGC("--DPUpgradeThreadLimit", "12x"), ARGV("--DPUpgradeThreadLimit", "12x"),
                 "DPUpgradeThreadLimit: '12x' is not a number");
    expect_error(ARGC("--DPUpgradeThreadLimit="), ARGV("--DPUpgradeThreadLimit="),
                 "is not a number");
    expect_error(ARGC("--DPUpgradeThreadLimit", "99999999999999999999"),
                 ARGV("--DPUpgradeThreadLimit", "99999999999999999999"), "is not a number");
    setenv("TEST_DP_REMOVE_THREAD_LIMIT", "0", 1);
    char *argv[] = {"svc", NULL};
    expect_error(1, argv, "DPRemoveThreadLimit: 0 is below the minimum 1 (from TEST_DP_REMOVE_THREAD_LIMIT)");
}

static void test_bool_parsing(void **state)
{
    static const char *const on[] = {"1", "true", "TRUE", "yes", "On"};
    static const char *const off[] = {"0", "false", "no", "OFF"};
    char err[256];
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
        char arg[64];
        snprintf(arg, sizeof arg, "--Verbose=%s", on[i]);
        char *argv[] = {"svc", arg, NULL};
        verbose = 0;
        assert_int_equal(dpf_config_parse(opts, 2, argv, err, sizeof err), DPF_OK);
        assert_int_equal(verbose, 1);
        dpf_config_free(opts);
    }
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
        setenv("TEST_VERBOSE", off[i], 1);
        char *argv[] = {"svc", NULL};
        verbose = 1;
        assert_int_equal(dpf_config_parse(opts, 1, argv, err, sizeof err), DPF_OK);
        assert_int_equal(verbose, 0);
        dpf_config_free(opts);
    }
    unsetenv("TEST_VERBOSE");
    /* a bare flag means on; a following boolean word is its value */
    char *bare[] = {"svc", "--Verbose", "--Name", "x", NULL};
    assert_int_equal(dpf_config_parse(opts, 4, bare, err, sizeof err), DPF_OK);
    assert_int_equal(verbose, 1);
    assert_string_equal(name, "x");
    dpf_config_free(opts);
    char *word[] = {"svc", "--Verbose", "no", NULL};
    assert_int_equal(dpf_config_parse(opts, 3, word, err, sizeof err), DPF_OK);
    assert_int_equal(verbose, 0);
    dpf_config_free(opts);
    expect_error(ARGC("--Verbose=maybe"), ARGV("--Verbose=maybe"), "Verbose: 'maybe' is not a boolean");
}

static void test_unknown_and_stray(void **state)
{
    expect_error(ARGC("--NoSuchThing", "1"), ARGV("--NoSuchThing", "1"),
                 "unknown option '--NoSuchThing'");
    expect_error(ARGC("stray"), ARGV("stray"), "unexpected argument 'stray'");
    expect_error(ARGC("--Name"), ARGV("--Name"), "missing value");
}

static void test_help(void **state)
{
    char err[256];
    char *argv[] = {"svc", "--DPUpgradeThreadLimit", "0", "--help", NULL};
    /* help wins even over a bad value, and nothing is allocated */
    assert_int_equal(dpf_config_parse(opts, 4, argv, err, sizeof err), DPF_HELP_SHOWN);
    assert_null(db_url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_environment, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_argv_beats_environment, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_bounds, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_bool_parsing, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_unknown_and_stray, clear_env, free_config),
        cmocka_unit_test_setup_teardown(test_help, clear_env, free_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
