/* The site control data as the provider writes it and HMAN reads it
 * (tables site_system_roles, site_system_role_props, pull_dp_sources,
 * boundary_group_members in db/001_init.sql). Names follow the source. */
#ifndef DPF_SITECONTROL_H
#define DPF_SITECONTROL_H

#define DPF_ROLE_SITE_SYSTEM "SMS Site System"
#define DPF_ROLE_DP "SMS Distribution Point"

/* Properties of the DP role (site_system_role_props.name) and which column
 * holds the value: value1 = text, value3 = number. */
#define DPF_PROP_DESCRIPTION "Description"      /* value1 */
#define DPF_PROP_DP_DRIVE "DPDrive"             /* value1, "" = any */
#define DPF_PROP_IS_PXE "IsPXE"                 /* value3, 0/1 */
#define DPF_PROP_IS_PULL_DP "IsPullDP"          /* value3, 0/1 */
#define DPF_PROP_PRIORITY "Priority"            /* value3, default 200 */
#define DPF_PROP_MIN_FREE_SPACE "MinFreeSpace"  /* value3, MB, default 50 */
#define DPF_PROP_TRANSFER_RATE "TransferRate"   /* value3, default 0 */
#define DPF_PROP_SSL_STATE "SslState"           /* value3, default 0 */
#define DPF_PROP_CONTENT_VALIDATION "ContentValidationIntervalHours" /* value3, default 168, 0 = off */

/* Subjects (see DESIGN.md, Events). */
#define DPF_SUBJ_SITECONTROL "sitecontrol.changed"
#define DPF_SUBJ_DP_INS "dp.ins"
#define DPF_SUBJ_DP_DPN "dp.dpn"
#define DPF_SUBJ_PKG_CHANGED "pkg.changed"
#define DPF_SUBJ_DP_VAL "dp.val"
#define DPF_STREAM_EVENTS "DPF_EVENTS"
#define DPF_STREAM_STATMSG "DPF_STATMSG"

/* Log component names, as the source names them. */
#define DPF_COMP_PROVIDER "SMS_PROVIDER"
#define DPF_COMP_DBMON "SMS_DATABASE_NOTIFICATION_MONITOR"
#define DPF_COMP_HMAN "SMS_HIERARCHY_MANAGER"
#define DPF_COMP_DISTMGR "SMS_DISTRIBUTION_MANAGER"
#define DPF_COMP_DPAGENT "SMS_DP_PROVIDER"

#endif
