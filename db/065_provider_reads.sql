-- The provider's DP reads (issue 8): one function that turns a DP role into
-- the API's JSON, used by GET /v1/distributionpoints/{serverName} and by
-- every page of GET /v1/distributionpoints (services/provider/store_dp.c).
--
-- Why a function: the statement behind one DP joins five tables and costs
-- PostgreSQL about ten times more to plan than to run; PL/pgSQL keeps the
-- plan of each statement for the life of the session, so a provider
-- connection plans it once instead of on every request. Why JSON from SQL:
-- row_to_json writes each DP once, compactly, in the database, so the provider
-- neither decodes 30 columns nor holds a jansson tree per DP; a page of
-- 5,000 DPs costs it the text of the answer and nothing more.
--
-- The property names come in as parameters (lib/include/dpf/sitecontrol.h
-- stays their one definition); the defaults are those of the DP role
-- (Priority 200, MinFreeSpace 50, ContentValidationIntervalHours 168).
-- Fields of DistributionPoints are null until hman has inserted the DP,
-- except maintenanceMode (false: a DP nobody has inserted is not in it).
-- Keys keep the order of the C version this replaces (services/provider
-- dp_json.c before issue 8): row_to_json names each one after its column.
CREATE FUNCTION dpf_dp_json(p_role_id bigint, p_description text, p_drive text, p_pxe text,
                            p_pull text, p_priority text, p_min_free text,
                            p_validation text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    j text;
BEGIN
    SELECT row_to_json(x)::text INTO j FROM (SELECT
        r.server_name AS "serverName",
        r.site_code AS "siteCode",
        r.nal_path AS "nalPath",
        d.dpid AS "dpid",
        coalesce(pr.description, '') AS "description",
        coalesce(pr.priority, 200) AS "priority",
        coalesce(pr.is_pxe, 0) <> 0 AS "enablePXE",
        CASE WHEN coalesce(pr.is_pull, 0) <> 0 THEN json_build_object('sources', coalesce(
            (SELECT json_agg(json_build_object('serverName', s.source_server, 'priority', s.priority)
                             ORDER BY s.priority, s.source_server)
               FROM pull_dp_sources s WHERE s.role_id = r.id), '[]')) END AS "pullDP",
        coalesce(pr.min_free, 50) AS "minFreeSpaceMB",
        coalesce(pr.drive, '') AS "drive",
        coalesce(
            (SELECT json_agg(g.name ORDER BY g.name)
               FROM boundary_group_members m JOIN boundary_groups g ON g.id = m.group_id
              WHERE m.nal_path = r.nal_path), '[]') AS "boundaryGroups",
        d.identity_guid AS "identityGuid",
        d.dp_crc AS "crc",
        d.install_state AS "installState",
        d.last_step AS "lastStep",
        d.last_error AS "lastError",
        d.installed_version AS "installedVersion",
        d.action AS "action",
        coalesce(d.maintenance_mode, false) AS "maintenanceMode",
        nullif(d.maintenance_changed_by, '') AS "maintenanceChangedBy",
        to_char(d.maintenance_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            AS "maintenanceChangedAt",
        coalesce(pr.validation_hours, 168) AS "contentValidationIntervalHours",
        to_char(d.validation_requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            AS "validationRequestedAt",
        to_char(d.last_validation_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            AS "lastValidationAt",
        nullif(d.last_validation_result, '') AS "lastValidationResult"
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
     WHERE r.id = p_role_id) x;
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
