-- Issue 9, item 6: database roles. One NOLOGIN group role per service with
-- only the grants its job needs, and a read-only role for reporting; the
-- login users are members of these (scripts/stack makes dpfleet_<service>
-- users). The migrations themselves run as the schema owner
-- (dbmon --migrate), which owns every table and function.
--
--   dpf_provider  the REST API: site control (DP create/delete/update),
--                 boundary groups, packages and their distribution, audit
--                 rows, API tokens. It does NOT write distribution_points
--                 (hman and distmgr own those rows): its own three actions
--                 on a DP (maintenance mode, a validation request, a site
--                 reset) are functions of 095_provider_writes.sql.
--   dpf_hman      reads site control (never writes it: the only privilege it
--                 has on site_control is UPDATE of serial, which its row lock
--                 SELECT ... FOR UPDATE OF site_control needs), writes the
--                 DPs it derives from it, sys_res_list, dp_notification,
--                 default client packages, certificates and its own state;
--                 it reads the outbox id sequence's last value.
--   dpf_distmgr   installs and removes DPs and their content: DP state,
--                 dp_packages, package versions and files. No site control
--                 table at all.
--   dpf_dbmon     reads and deletes outbox rows (UPDATE of created_at only
--                 because SELECT ... FOR UPDATE SKIP LOCKED needs an UPDATE
--                 privilege), reads status messages to publish them and
--                 deletes old ones (retention).
--   dpf_reader    SELECT on every table but api_tokens (token hashes).
-- Every service role may raise status messages (INSERT status_messages and
-- statmsg_outbox_add, which only writes "statmsg." subjects).
--
-- The outbox: no service role may insert outbox rows (dbmon publishes each
-- row's subject, so a free INSERT would let the provider forge
-- sitecontrol.changed.* or dp.ins.*). The trigger functions that add outbox
-- rows are SECURITY DEFINER (they run as the schema owner) with a fixed
-- search_path, outbox_add itself is not executable by PUBLIC, and the two
-- functions the services call directly (statmsg_outbox_add, content_wake_dp)
-- are SECURITY DEFINER and granted by name.
--
-- Roles are cluster-wide: this file runs once per database (several test
-- databases share one cluster), so it creates a role only when missing and
-- tolerates a concurrent creator. GRANT and REVOKE are idempotent.
--
-- A LATER MIGRATION THAT ADDS A TABLE, A SEQUENCE OR A FUNCTION MUST GRANT
-- the roles that need it in the same file (at least SELECT to dpf_reader);
-- nothing here applies to objects created after it.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['dpf_provider', 'dpf_hman', 'dpf_distmgr', 'dpf_dbmon', 'dpf_reader']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database's migration created it meanwhile
            END;
        END IF;
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO dpf_provider, dpf_hman, dpf_distmgr, dpf_dbmon, dpf_reader;

-- ---- outbox writers: SECURITY DEFINER with a fixed search_path ----
ALTER FUNCTION site_control_changed() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION distribution_points_changed() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION dp_notification_added() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION package_changed() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION dp_packages_inserted() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION dp_packages_updated() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION dp_validation_requested() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION content_wake_dp(bigint) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION outbox_add(text, text, text, text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION content_wake_dp(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION content_wake_dp(bigint) TO dpf_distmgr;

-- A status message's outbox row, and nothing else: the subject must be a
-- status message's (the row itself is not checked: the caller's CTE inserts
-- it in the same statement, invisible to this function's snapshot).
CREATE OR REPLACE FUNCTION statmsg_outbox_add(p_record bigint, p_subject text, p_corr text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_subject IS NULL OR left(p_subject, 8) <> 'statmsg.' THEN
        RAISE EXCEPTION 'statmsg_outbox_add: subject % is not a status message''s', p_subject
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO outbox (subject, operation, table_name, trigger_name, object_key, reason,
                        correlation_id)
    VALUES (p_subject, 'INSERT', 'StatusMessages', 'StatusMessages_Ins', p_record::text, '',
            coalesce(p_corr, ''));
    PERFORM pg_notify('dpf_outbox', '');
    RETURN p_record;
END $$;
REVOKE EXECUTE ON FUNCTION statmsg_outbox_add(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION statmsg_outbox_add(bigint, text, text)
    TO dpf_provider, dpf_hman, dpf_distmgr, dpf_dbmon;
GRANT INSERT ON status_messages TO dpf_provider, dpf_hman, dpf_distmgr, dpf_dbmon;
GRANT SELECT (id, correlation_id) ON status_messages TO dpf_hman, dpf_distmgr; -- RETURNING

-- ---- dpf_provider ----
GRANT SELECT ON sites, site_control, site_system_roles, site_system_role_props, pull_dp_sources,
    distribution_points, boundary_groups, boundary_group_members, boundaries,
    boundary_group_neighbors, packages, dp_packages, package_boundary_groups, status_messages,
    api_tokens TO dpf_provider;
GRANT UPDATE ON site_control TO dpf_provider;                    -- serial: wakes hman
GRANT INSERT, UPDATE, DELETE ON site_system_roles, site_system_role_props, pull_dp_sources,
    boundary_groups, boundary_group_members, boundaries, boundary_group_neighbors
    TO dpf_provider;
GRANT INSERT, UPDATE ON packages, dp_packages, api_tokens TO dpf_provider;
GRANT INSERT, DELETE ON package_boundary_groups TO dpf_provider;
GRANT INSERT ON audit_log TO dpf_provider;
-- distribution_points: no write privilege; its three actions on a DP row
-- are the SECURITY DEFINER functions of 095_provider_writes.sql
GRANT USAGE ON SEQUENCE package_number TO dpf_provider;

-- ---- dpf_hman ----
GRANT SELECT ON sites, site_control, site_system_roles, site_system_role_props, pull_dp_sources,
    sys_res_list, distribution_points, boundary_groups, boundary_group_members, packages,
    dp_packages, dp_certificates, hman_processed_changes, hman_site_state TO dpf_hman;
GRANT UPDATE (serial) ON site_control TO dpf_hman;               -- FOR UPDATE OF c only
GRANT INSERT, UPDATE, DELETE ON sys_res_list TO dpf_hman;
GRANT INSERT, UPDATE ON distribution_points, dp_certificates, hman_site_state TO dpf_hman;
GRANT INSERT ON dp_notification, dp_packages TO dpf_hman;
GRANT INSERT, DELETE ON hman_processed_changes TO dpf_hman;
-- the outbox id high-water mark (pg_sequence_last_value, services/hman/
-- store_state.c): SELECT on a sequence reads it, it cannot take a value
GRANT SELECT ON SEQUENCE outbox_id_seq TO dpf_hman;

-- ---- dpf_distmgr ----
GRANT SELECT ON distribution_points, dp_notification, packages, dp_packages, dp_certificates,
    package_versions, package_files, package_boundary_groups, boundary_group_members
    TO dpf_distmgr;
GRANT UPDATE, DELETE ON distribution_points, packages, dp_packages TO dpf_distmgr;
GRANT INSERT ON dp_packages TO dpf_distmgr;                      -- content_sync_groups
GRANT DELETE ON dp_notification, dp_certificates TO dpf_distmgr;
GRANT INSERT, DELETE ON package_versions TO dpf_distmgr;
GRANT INSERT ON package_files TO dpf_distmgr;

-- ---- dpf_dbmon ----
GRANT SELECT, DELETE ON outbox, status_messages TO dpf_dbmon;
GRANT UPDATE (created_at) ON outbox TO dpf_dbmon;                -- FOR UPDATE SKIP LOCKED only

-- ---- the serial columns' sequences of the tables each role inserts into ----
DO $$
DECLARE
    g record;
    s text;
BEGIN
    FOR g IN SELECT c.relname AS tbl, r.rolname AS role
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
             CROSS JOIN pg_roles r
             WHERE c.relkind = 'r' AND r.rolname LIKE 'dpf\_%'
               AND has_table_privilege(r.rolname, c.oid, 'INSERT')
    LOOP
        FOR s IN SELECT pg_get_serial_sequence(format('public.%I', g.tbl), a.attname)
                 FROM pg_attribute a
                 WHERE a.attrelid = format('public.%I', g.tbl)::regclass AND a.attnum > 0
                   AND NOT a.attisdropped
                   AND pg_get_serial_sequence(format('public.%I', g.tbl), a.attname) IS NOT NULL
        LOOP
            EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', s, g.role);
        END LOOP;
    END LOOP;
END $$;

-- ---- dpf_reader: reporting ----
GRANT SELECT ON ALL TABLES IN SCHEMA public TO dpf_reader;
REVOKE SELECT ON api_tokens FROM dpf_reader;
