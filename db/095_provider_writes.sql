-- Issue 9, item 6: the provider cannot write distribution_points. Its three
-- actions on a DP row (maintenance mode, a content validation request, a
-- site reset) go through the SECURITY DEFINER functions below, which run as
-- the schema owner with a fixed search_path, check their parameters and the
-- DP's state themselves, and write only the columns of that action. The
-- column grants 080_roles.sql gave dpf_provider until now are revoked (a
-- database migrated before this file keeps them otherwise), so with the
-- provider's role an UPDATE of any column of distribution_points, and a row
-- lock on it (SELECT ... FOR UPDATE needs an UPDATE privilege), is refused.
-- Each function is executable by dpf_provider only.
--
-- Errors: invalid_parameter_value (22023) for a bad argument, no_data_found
-- (P0002) for a DP or site that does not exist, object_not_in_prerequisite_
-- state (55000) for a DP whose state does not allow the action. The
-- provider checks all of this before calling (with its own messages); these
-- checks hold for any other caller with the role.

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON distribution_points
    FROM dpf_provider;

-- The DP's row for a maintenance mode change or a validation request, by
-- server name (upper-cased FQDN) or, when p_server is NULL, by NAL path
-- (case-insensitive), locked until the transaction ends (lock the DP's site
-- first: hman locks the site, then writes the DP rows). No row when there is
-- no such DP.
CREATE OR REPLACE FUNCTION provider_dp_lock(p_server text, p_nal text)
RETURNS TABLE (dp_id bigint, dp_server text, dp_site text, dp_nal text, dp_maintenance boolean,
               dp_action int, dp_install_state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_server IS NULL AND p_nal IS NULL THEN
        RAISE EXCEPTION 'provider_dp_lock: a server name or a NAL path is required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT d.dpid, d.server_name, d.site_code, d.nal_path, d.maintenance_mode, d.action,
               d.install_state
        FROM distribution_points d
        WHERE (p_server IS NOT NULL AND d.server_name = upper(p_server))
           OR (p_server IS NULL AND lower(d.nal_path) = lower(p_nal))
        ORDER BY d.action, d.dpid DESC LIMIT 1
        FOR UPDATE;
END $$;

-- Maintenance mode on or off, by whom (the credential's user, 1 to 256
-- characters, no control characters). Enabling it on a DP that is being
-- removed is refused.
CREATE OR REPLACE FUNCTION provider_dp_maintenance_set(p_dpid bigint, p_on boolean, p_user text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d record;
BEGIN
    IF p_dpid IS NULL OR p_on IS NULL THEN
        RAISE EXCEPTION 'provider_dp_maintenance_set: DPID and mode are required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_user IS NULL OR length(p_user) NOT BETWEEN 1 AND 256 OR p_user ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'provider_dp_maintenance_set: the user name must be 1 to 256 printable '
                        'characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT action, install_state INTO d FROM distribution_points WHERE dpid = p_dpid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'provider_dp_maintenance_set: no distribution point with DPID %', p_dpid
            USING ERRCODE = 'no_data_found';
    END IF;
    IF p_on AND (d.action = 3 OR d.install_state LIKE 'Remov%') THEN
        RAISE EXCEPTION 'provider_dp_maintenance_set: DPID % is being removed', p_dpid
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE distribution_points
    SET maintenance_mode = p_on, maintenance_changed_by = p_user, maintenance_changed_at = now()
    WHERE dpid = p_dpid;
END $$;

-- validation_requested_at = now() (its trigger queues dp.val for distmgr),
-- for an Installed DP that is not being removed.
CREATE OR REPLACE FUNCTION provider_dp_validate_request(p_dpid bigint)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d record;
BEGIN
    IF p_dpid IS NULL THEN
        RAISE EXCEPTION 'provider_dp_validate_request: DPID is required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT action, install_state INTO d FROM distribution_points WHERE dpid = p_dpid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'provider_dp_validate_request: no distribution point with DPID %', p_dpid
            USING ERRCODE = 'no_data_found';
    END IF;
    IF d.action <> 0 OR d.install_state <> 'Installed' THEN
        RAISE EXCEPTION 'provider_dp_validate_request: DPID % is not Installed (install state %, '
                        'action %)', p_dpid, d.install_state, d.action
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE distribution_points SET validation_requested_at = now() WHERE dpid = p_dpid;
END $$;

-- A site reset: every DP of the site that is not being removed goes back to
-- 'Pending' (last_step 'reset'); the DistributionPoints trigger turns each
-- into a dp.ins event. Returns the DPIDs. p_site is a site code (three
-- upper-case letters or digits) of an existing site.
CREATE OR REPLACE FUNCTION provider_site_reset(p_site text)
RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_site IS NULL OR p_site !~ '^[A-Z0-9]{3}$' THEN
        RAISE EXCEPTION 'provider_site_reset: % is not a site code', coalesce(p_site, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sites WHERE site_code = p_site) THEN
        RAISE EXCEPTION 'provider_site_reset: unknown site code %', p_site
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
        UPDATE distribution_points SET install_state = 'Pending', last_step = 'reset',
                                       updated_at = now()
        WHERE site_code = p_site AND action = 0 RETURNING dpid;
END $$;

REVOKE EXECUTE ON FUNCTION provider_dp_lock(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION provider_dp_maintenance_set(bigint, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION provider_dp_validate_request(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION provider_site_reset(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION provider_dp_lock(text, text) TO dpf_provider;
GRANT EXECUTE ON FUNCTION provider_dp_maintenance_set(bigint, boolean, text) TO dpf_provider;
GRANT EXECUTE ON FUNCTION provider_dp_validate_request(bigint) TO dpf_provider;
GRANT EXECUTE ON FUNCTION provider_site_reset(text) TO dpf_provider;
