-- Fleet scale (issue 8): 5,000 DPs per site.

-- HMAN's last pass over each site. covered_change_id is the outbox id
-- high-water mark read right after the pass locked the site's site_control
-- row: every site control change of the site with an outbox id up to it was
-- committed before the pass read the site, so its event is acknowledged
-- (with its own 3306) without a second pass. A burst of changes costs one
-- pass. serial is the site_control.serial that pass processed.
CREATE TABLE hman_site_state (
    site_code         text PRIMARY KEY REFERENCES sites(site_code),
    serial            bigint NOT NULL,
    covered_change_id bigint NOT NULL,
    change_id         bigint NOT NULL DEFAULT 0,
    -- count and sum of the ids of the site's roles when the pass brought
    -- SysResList in step: while they are the same, no role was added or
    -- removed (ids are never reused) and SysResList needs no comparing
    roles_fingerprint text NOT NULL DEFAULT '',
    processed_at      timestamptz NOT NULL DEFAULT now()
);

-- Queries that run on every request or every change, and scanned whole
-- tables at 5,000 DPs:
--   content location and HMAN's boundary groups of a site's DPs, by NAL path
CREATE INDEX boundary_group_members_nal ON boundary_group_members(nal_path);
--   the provider's "this server's DP role" (PATCH, maintenance, delete)
CREATE INDEX site_system_roles_role_server ON site_system_roles(role_name, server_name);
--   GET /v1/distributionpoints/{serverName} and every lookup by server
CREATE INDEX distribution_points_server ON distribution_points(server_name);
--   distmgr's DP manager: the notifications of one DP
CREATE INDEX dp_notification_dpid ON dp_notification(dpid);
--   dpctl statmsg list --correlation-id (the whole story of one action)
CREATE INDEX status_messages_corr ON status_messages(correlation_id);
--   dbmon's retention (StatusMessageRetentionDays): the oldest rows first
CREATE INDEX status_messages_raised ON status_messages(raised_at);
