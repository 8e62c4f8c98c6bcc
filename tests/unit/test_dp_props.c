/* dp_props: the DP role's property table, its look-ups and how hman holds a
 * stored value to a property's range. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/dp_props.h>
#include <dpf/sitecontrol.h>

static void test_every_id_has_its_row(void **state)
{
    (void)state;
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_get((dpf_dp_prop_id)i);
        assert_non_null(p);
        assert_int_equal(p->id, i);
        assert_non_null(p->name);
        assert_non_null(p->column);
        /* found again by its name: names and columns are distinct */
        assert_ptr_equal(dpf_dp_prop_find(p->name), p);
        for (int j = 0; j < i; j++) {
            const dpf_dp_prop *q = dpf_dp_prop_get((dpf_dp_prop_id)j);
            assert_string_not_equal(p->name, q->name);
            assert_string_not_equal(p->column, q->column);
        }
        if (p->type == DPF_DP_PROP_TEXT) {
            assert_non_null(p->text_default);
        } else {
            assert_null(p->text_default);
            assert_true(p->min <= p->int_default && p->int_default <= p->max);
        }
    }
    assert_null(dpf_dp_prop_get(DPF_DP_PROP_COUNT));
    assert_null(dpf_dp_prop_get((dpf_dp_prop_id)-1));
}

/* The source's names and defaults, written out once more on purpose: a
 * change to the table must be a change to this test too. */
static void test_source_names_and_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        dpf_dp_prop_type type;
        const char *text;
        int num;
        const char *column;
    } want[] = {
        {"Description", DPF_DP_PROP_TEXT, "", 0, "description"},
        {"DPDrive", DPF_DP_PROP_TEXT, "", 0, "dp_drive"},
        {"IsPXE", DPF_DP_PROP_BOOL, NULL, 0, "is_pxe"},
        {"IsPullDP", DPF_DP_PROP_BOOL, NULL, 0, "is_pull_dp"},
        {"Priority", DPF_DP_PROP_INT, NULL, 200, "priority"},
        {"MinFreeSpace", DPF_DP_PROP_INT, NULL, 50, "min_free_space"},
        {"TransferRate", DPF_DP_PROP_INT, NULL, 0, "transfer_rate"},
        {"SslState", DPF_DP_PROP_INT, NULL, 0, "ssl_state"},
        {"ContentValidationIntervalHours", DPF_DP_PROP_INT, NULL, 168,
         "content_validation_interval_hours"},
    };
    assert_int_equal(sizeof want / sizeof want[0], DPF_DP_PROP_COUNT);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_find(want[i].name);
        assert_non_null(p);
        assert_int_equal(p->type, want[i].type);
        assert_int_equal(p->int_default, want[i].num);
        assert_string_equal(p->column, want[i].column);
        if (want[i].text != NULL)
            assert_string_equal(p->text_default, want[i].text);
    }
    assert_string_equal(dpf_dp_prop_get(DPF_DP_PROP_PRIORITY)->name, DPF_PROP_PRIORITY);
    assert_int_equal(dpf_dp_prop_get(DPF_DP_PROP_CONTENT_VALIDATION)->int_default,
                     DPF_DP_VALIDATION_HOURS_DEFAULT);
}

static void test_find_unknown_names(void **state)
{
    (void)state;
    assert_null(dpf_dp_prop_find(NULL));
    assert_null(dpf_dp_prop_find(""));
    assert_null(dpf_dp_prop_find("SomethingNewer"));
    assert_null(dpf_dp_prop_find("priority"));  /* the site control's names are exact */
    assert_null(dpf_dp_prop_find("Priority ")); /* no prefix match either */
    assert_null(dpf_dp_prop_find("IsPX"));
}

static void test_clamp(void **state)
{
    (void)state;
    const dpf_dp_prop *pxe = dpf_dp_prop_get(DPF_DP_PROP_IS_PXE);
    assert_int_equal(dpf_dp_prop_clamp(pxe, 0), 0);
    assert_int_equal(dpf_dp_prop_clamp(pxe, 7), 1);  /* any non-zero is on */
    assert_int_equal(dpf_dp_prop_clamp(pxe, -1), 1);
    assert_int_equal(dpf_dp_prop_clamp(pxe, 1LL << 32), 1); /* not truncated to 0 */

    const dpf_dp_prop *val = dpf_dp_prop_get(DPF_DP_PROP_CONTENT_VALIDATION);
    assert_int_equal(dpf_dp_prop_clamp(val, 9000), DPF_DP_VALIDATION_HOURS_MAX);
    assert_int_equal(dpf_dp_prop_clamp(val, -5), 0);
    assert_int_equal(dpf_dp_prop_clamp(val, 24), 24);
    assert_int_equal(dpf_dp_prop_clamp(val, 8760), 8760);

    const dpf_dp_prop *rate = dpf_dp_prop_get(DPF_DP_PROP_TRANSFER_RATE);
    assert_int_equal(dpf_dp_prop_clamp(rate, 1LL << 40), INT_MAX);
    assert_int_equal(dpf_dp_prop_clamp(rate, -(1LL << 40)), -INT_MAX);
    assert_int_equal(dpf_dp_prop_clamp(rate, -3), -3);

    assert_int_equal(dpf_dp_prop_clamp(dpf_dp_prop_get(DPF_DP_PROP_DESCRIPTION), 5), 0);
    assert_int_equal(dpf_dp_prop_clamp(NULL, 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_id_has_its_row),
        cmocka_unit_test(test_source_names_and_defaults),
        cmocka_unit_test(test_find_unknown_names),
        cmocka_unit_test(test_clamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
