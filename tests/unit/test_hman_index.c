/* hman_index: the hash map hman joins a site's roles, DistributionPoints
 * rows and SysResList with. Keys found with their own value whatever the
 * number of keys (it grows past the size it was made for), absent keys
 * NULL, pairs that concatenate alike kept apart, the first value of a key
 * kept, and integer keys in an index of their own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index.h"

#define N 10000

static void test_string_pairs(void **state)
{
    (void)state;
    static char nal[N][48];
    static int vals[N];
    hman_index *ix = NULL;
    assert_int_equal(hman_index_create(4, &ix), DPF_OK); /* far fewer than N: it grows */
    for (int i = 0; i < N; i++) {
        snprintf(nal[i], sizeof nal[i], "[\"Display=\\\\BDP%04d.BENCH\"]", i);
        vals[i] = i;
        assert_int_equal(hman_index_put(ix, "SMS Distribution Point", nal[i], &vals[i]), DPF_OK);
    }
    assert_int_equal(hman_index_count(ix), N);
    for (int i = 0; i < N; i++) {
        int *v = hman_index_get(ix, "SMS Distribution Point", nal[i]);
        assert_non_null(v);
        assert_int_equal(*v, i);
        /* the same NAL path under another role name is another key */
        assert_null(hman_index_get(ix, "SMS Site System", nal[i]));
    }
    assert_null(hman_index_get(ix, "SMS Distribution Point", "[\"Display=\\\\BDP9999.X\"]"));
    assert_null(hman_index_get(ix, "SMS Distribution Point", NULL));
    hman_index_destroy(ix);
    hman_index_destroy(NULL);
}

static void test_pairs_kept_apart_and_first_value_kept(void **state)
{
    (void)state;
    int a = 1, b = 2, c = 3, d = 4;
    hman_index *ix = NULL;
    assert_int_equal(hman_index_create(0, &ix), DPF_OK);
    assert_int_equal(hman_index_put(ix, "ab", "c", &a), DPF_OK);
    assert_int_equal(hman_index_put(ix, "a", "bc", &b), DPF_OK);
    assert_int_equal(hman_index_put(ix, NULL, "abc", &c), DPF_OK);
    assert_int_equal(hman_index_put(ix, "ab", "c", &d), DPF_OK); /* a duplicate key */
    assert_int_equal(hman_index_count(ix), 3);
    assert_ptr_equal(hman_index_get(ix, "ab", "c"), &a);
    assert_ptr_equal(hman_index_get(ix, "a", "bc"), &b);
    assert_ptr_equal(hman_index_get(ix, NULL, "abc"), &c);
    assert_ptr_equal(hman_index_get(ix, "", "abc"), &c); /* NULL reads as "" */
    assert_null(hman_index_get(ix, "abc", ""));
    assert_int_equal(hman_index_put(ix, "x", NULL, &a), DPF_ERR_INVALID);
    hman_index_destroy(ix);
}

static void test_ids(void **state)
{
    (void)state;
    static long long vals[N];
    hman_index *ix = NULL;
    assert_int_equal(hman_index_create(16, &ix), DPF_OK);
    /* ids as bigserial hands them out, with gaps, and a negative one */
    for (int i = 0; i < N; i++) {
        vals[i] = 1000000LL + (long long)i * 7;
        assert_int_equal(hman_index_put_id(ix, vals[i], &vals[i]), DPF_OK);
    }
    assert_int_equal(hman_index_put_id(ix, -5, &vals[0]), DPF_OK);
    for (int i = 0; i < N; i++) {
        long long *v = hman_index_get_id(ix, vals[i]);
        assert_non_null(v);
        assert_int_equal(*v, vals[i]);
        assert_null(hman_index_get_id(ix, vals[i] + 1));
    }
    assert_ptr_equal(hman_index_get_id(ix, -5), &vals[0]);
    assert_null(hman_index_get_id(ix, 0));
    assert_null(hman_index_get_id(NULL, 1));
    hman_index_destroy(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_pairs),
        cmocka_unit_test(test_pairs_kept_apart_and_first_value_kept),
        cmocka_unit_test(test_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
