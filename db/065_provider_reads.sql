-- The provider's DP reads (issue 8): one function that turns a DP role into
-- the API's JSON, used by GET /v1/distributionpoints/{serverName} and by
-- every page of GET /v1/distributionpoints (services/provider/store_dp.c).
--
-- Why a function: the statement behind one DP joins five tables and costs
-- PostgreSQL about ten times more to plan than to run; PL/pgSQL keeps the
-- plan of each statement for the life of the session, so a provider
-- connection plans it once instead of on every request. Why JSON from SQL:
-- json_build_object writes each DP once, in the database, so the provider
-- neither decodes 30 columns nor holds a jansson tree per DP; a page of
-- 5,000 DPs costs it the text of the answer and nothing more.
--
-- The property names come in as parameters (lib/include/dpf/sitecontrol.h
-- stays their one definition); the defaults are those of the DP role
-- (Priority 200, MinFreeSpace 50, ContentValidationIntervalHours 168).
-- Fields of DistributionPoints are null until hman has inserted the DP,
-- except maintenanceMode (false: a DP nobody has inserted is not in it).
-- Keys keep the order of the C version this replaces (services/provider
-- dp_json.c before issue 8).
CREATE FUNCTION dpf_dp_json(p_role_id bigint, p_description text, p_drive text, p_pxe text,
                            p_pull text, p_priority text, p_min_free text,
                            p_validation text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    j text;
BEGIN
    SELECT json_build_object(
        'serverName', r.server_name,
        'siteCode', r.site_code,
        'nalPath', r.nal_path,
        'dpid', d.dpid,
        'description', coalesce(pr.description, ''),
        'priority', coalesce(pr.priority, 200),
        'enablePXE', coalesce(pr.is_pxe, 0) <> 0,
        'pullDP', CASE WHEN coalesce(pr.is_pull, 0) <> 0 THEN json_build_object('sources', coalesce(
            (SELECT json_agg(json_build_object('serverName', s.source_server, 'priority', s.priority)
                             ORDER BY s.priority, s.source_server)
               FROM pull_dp_sources s WHERE s.role_id = r.id), '[]')) END,
        'minFreeSpaceMB', coalesce(pr.min_free, 50),
        'drive', coalesce(pr.drive, ''),
        'boundaryGroups', coalesce(
            (SELECT json_agg(g.name ORDER BY g.name)
               FROM boundary_group_members m JOIN boundary_groups g ON g.id = m.group_id
              WHERE m.nal_path = r.nal_path), '[]'),
        'identityGuid', d.identity_guid,
        'crc', d.dp_crc,
        'installState', d.install_state,
        'lastStep', d.last_step,
        'lastError', d.last_error,
        'installedVersion', d.installed_version,
        'action', d.action,
        'maintenanceMode', coalesce(d.maintenance_mode, false),
        'maintenanceChangedBy', nullif(d.maintenance_changed_by, ''),
        'maintenanceChangedAt',
            to_char(d.maintenance_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'contentValidationIntervalHours', coalesce(pr.validation_hours, 168),
        'validationRequestedAt',
            to_char(d.validation_requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'lastValidationAt',
            to_char(d.last_validation_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'lastValidationResult', nullif(d.last_validation_result, ''))::text
      INTO j
      FROM site_system_roles r
      LEFT JOIN distribution_points d ON d.nal_path = r.nal_path
      LEFT JOIN LATERAL (
          SELECT max(p.value1) FILTER (WHERE p.name = p_description) AS description,
                 max(p.value1) FILTER (WHERE p.name = p_drive) AS drive,
                 max(p.value3) FILTER (WHERE p.name = p_pxe) AS is_pxe,
                 max(p.value3) FILTER (WHERE p.name = p_pull) AS is_pull,
                 max(p.value3) FILTER (WHERE p.name = p_priority) AS priority,
                 max(p.value3) FILTER (WHERE p.name = p_min_free) AS min_free,
                 max(p.value3) FILTER (WHERE p.name = p_validation) AS validation_hours
            FROM site_system_role_props p WHERE p.role_id = r.id) pr ON true
     WHERE r.id = p_role_id;
    RETURN j;
END $$;

-- One DP by server name (case-insensitive), NULL when there is none: a
-- function too, so that even the lookup of the role is planned once per
-- session. Needs the index on site_system_roles(role_name, server_name)
-- (db/060_scale.sql).
CREATE FUNCTION dpf_dp_show(p_role text, p_server text, p_description text, p_drive text,
                            p_pxe text, p_pull text, p_priority text, p_min_free text,
                            p_validation text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT r.id INTO v_id FROM site_system_roles r
     WHERE r.role_name = p_role AND r.server_name = upper(p_server)
     ORDER BY r.id LIMIT 1;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN dpf_dp_json(v_id, p_description, p_drive, p_pxe, p_pull, p_priority, p_min_free,
                       p_validation);
END $$;
