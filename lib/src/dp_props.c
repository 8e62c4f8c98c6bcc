/* The DP role's property table (dp_props.h). It used to be written out
 * four times, in the provider's reads, in hman's role loader, in SQL and
 * in the schema, and nothing told them apart when one changed; now the two
 * C readers take names, types and defaults from here and an integration
 * test holds the SQL side to the same rows. */
#include "dpf/dp_props.h"
#include "dpf/sitecontrol.h"

#include <limits.h>
#include <string.h>

/* The whole int range but INT_MIN, as hman has always clamped value3 */
#define ANY_MIN (-INT_MAX)
#define ANY_MAX INT_MAX

static const dpf_dp_prop props[DPF_DP_PROP_COUNT] = {
    {DPF_DP_PROP_DESCRIPTION, DPF_PROP_DESCRIPTION, DPF_DP_PROP_TEXT, "", 0, 0, 0,
     "description", "description"},
    {DPF_DP_PROP_DRIVE, DPF_PROP_DP_DRIVE, DPF_DP_PROP_TEXT, "", 0, 0, 0, "dp_drive", "drive"},
    {DPF_DP_PROP_IS_PXE, DPF_PROP_IS_PXE, DPF_DP_PROP_BOOL, NULL, 0, 0, 1, "is_pxe",
     "enablePXE"},
    {DPF_DP_PROP_IS_PULL_DP, DPF_PROP_IS_PULL_DP, DPF_DP_PROP_BOOL, NULL, 0, 0, 1, "is_pull_dp",
     "pullDP"},
    {DPF_DP_PROP_PRIORITY, DPF_PROP_PRIORITY, DPF_DP_PROP_INT, NULL, DPF_DP_PRIORITY_DEFAULT,
     ANY_MIN, ANY_MAX, "priority", "priority"},
    {DPF_DP_PROP_MIN_FREE_SPACE, DPF_PROP_MIN_FREE_SPACE, DPF_DP_PROP_INT, NULL,
     DPF_DP_MIN_FREE_DEFAULT, ANY_MIN, ANY_MAX, "min_free_space", "minFreeSpaceMB"},
    {DPF_DP_PROP_TRANSFER_RATE, DPF_PROP_TRANSFER_RATE, DPF_DP_PROP_INT, NULL, 0, ANY_MIN,
     ANY_MAX, "transfer_rate", NULL},
    {DPF_DP_PROP_SSL_STATE, DPF_PROP_SSL_STATE, DPF_DP_PROP_INT, NULL, 0, ANY_MIN, ANY_MAX,
     "ssl_state", NULL},
    /* the CHECK of its column (db/050_maintenance.sql): a value written to
     * the site control by hand must not make every change of the site fail */
    {DPF_DP_PROP_CONTENT_VALIDATION, DPF_PROP_CONTENT_VALIDATION, DPF_DP_PROP_INT, NULL,
     DPF_DP_VALIDATION_HOURS_DEFAULT, 0, DPF_DP_VALIDATION_HOURS_MAX,
     "content_validation_interval_hours", "contentValidationIntervalHours"},
};

const dpf_dp_prop *dpf_dp_prop_get(dpf_dp_prop_id id)
{
    if ((int)id < 0 || id >= DPF_DP_PROP_COUNT)
        return NULL;
    return &props[id];
}

const dpf_dp_prop *dpf_dp_prop_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++)
        if (strcmp(props[i].name, name) == 0)
            return &props[i];
    return NULL;
}

int dpf_dp_prop_clamp(const dpf_dp_prop *prop, long long value3)
{
    if (prop == NULL || prop->type == DPF_DP_PROP_TEXT)
        return 0;
    if (prop->type == DPF_DP_PROP_BOOL)
        return value3 != 0;
    if (value3 < prop->min)
        return prop->min;
    if (value3 > prop->max)
        return prop->max;
    return (int)value3;
}
