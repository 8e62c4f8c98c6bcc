-- dpfleet schema, first migration. Names follow the source documents' tables
-- (vSMS_SC_SysResUse, DistributionPoints, DPNotification, ...) in snake case.

-- Sites. site_control.serial is bumped once per admin change of a site's
-- site control data; its trigger is what wakes HMAN (SiteControl_AddUpd_HMAN).
CREATE TABLE sites (
    site_code    text PRIMARY KEY CHECK (site_code ~ '^[A-Z0-9]{3}$'),
    site_name    text NOT NULL,
    server_name  text NOT NULL
);

CREATE TABLE site_control (
    site_code    text PRIMARY KEY REFERENCES sites(site_code),
    serial       bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- vSMS_SC_SysResUse: one row per site system role.
CREATE TABLE site_system_roles (
    id           bigserial PRIMARY KEY,
    site_code    text NOT NULL REFERENCES sites(site_code),
    role_name    text NOT NULL,          -- 'SMS Site System', 'SMS Distribution Point'
    nal_path     text NOT NULL,
    nal_res_type text NOT NULL DEFAULT 'Windows NT Server',
    server_name  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_code, role_name, nal_path)
);

-- vSMS_SC_SysResUse_Properties: Name / Value1 / Value2 / Value3 of a role.
CREATE TABLE site_system_role_props (
    role_id      bigint NOT NULL REFERENCES site_system_roles(id) ON DELETE CASCADE,
    name         text NOT NULL,
    value1       text NOT NULL DEFAULT '',
    value2       text NOT NULL DEFAULT '',
    value3       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (role_id, name)
);

-- Pull-DP sources of a DP role: lower priority value is tried first.
CREATE TABLE pull_dp_sources (
    role_id      bigint NOT NULL REFERENCES site_system_roles(id) ON DELETE CASCADE,
    source_server text NOT NULL,
    priority     int NOT NULL CHECK (priority >= 1),
    PRIMARY KEY (role_id, source_server)
);

-- SysResList as HMAN keeps it: the roles it has processed.
CREATE TABLE sys_res_list (
    site_code    text NOT NULL,
    role_name    text NOT NULL,
    nal_path     text NOT NULL,
    server_name  text NOT NULL,
    PRIMARY KEY (site_code, role_name, nal_path)
);

-- DistributionPoints, written by HMAN, read by DistMgr.
-- action: 0 = normal, 3 = deleted (removal pending).
-- install_state: the DP's install state machine (see services/distmgr).
CREATE TABLE distribution_points (
    dpid              bigserial PRIMARY KEY,
    server_name       text NOT NULL,
    nal_path          text NOT NULL UNIQUE,
    share_name        text NOT NULL DEFAULT '',
    site_code         text NOT NULL REFERENCES sites(site_code),
    is_pull_dp        boolean NOT NULL DEFAULT false,
    is_peer_dp        boolean NOT NULL DEFAULT false,
    is_bits           boolean NOT NULL DEFAULT false,
    pre_staging_allowed boolean NOT NULL DEFAULT false,
    is_multicast      boolean NOT NULL DEFAULT false,
    anonymous_enabled boolean NOT NULL DEFAULT false,
    token_auth_enabled boolean NOT NULL DEFAULT false,
    ssl_state         int NOT NULL DEFAULT 0,
    dp_type           int NOT NULL DEFAULT 0,
    priority          int NOT NULL DEFAULT 200,
    transfer_rate     int NOT NULL DEFAULT 0,
    dp_flags          int NOT NULL DEFAULT 0,
    is_protected      boolean NOT NULL DEFAULT true,
    dp_drive          text NOT NULL DEFAULT '',
    type              text NOT NULL DEFAULT 'Windows NT Server',
    min_free_space    int NOT NULL DEFAULT 50,
    is_pxe            boolean NOT NULL DEFAULT false,
    is_active         boolean NOT NULL DEFAULT false,
    response_delay    int NOT NULL DEFAULT 0,
    support_unknown_machines boolean NOT NULL DEFAULT false,
    certificate_type  int NOT NULL DEFAULT 0,
    identity_guid     text NOT NULL,
    pxe_password      text NOT NULL DEFAULT '',
    action            int NOT NULL DEFAULT 0,
    state             int NOT NULL DEFAULT 0,
    account           text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    pull_sources      text NOT NULL DEFAULT '',   -- canonical "FQDN:prio,..." (part of the CRC)
    boundary_groups   text NOT NULL DEFAULT '',   -- canonical "a,b" (part of the CRC)
    dp_crc            text NOT NULL,
    -- install state machine, owned by distmgr:
    -- 'Pending' (row new or changed), 'Installing', 'Installed', 'Failed',
    -- 'Removing', 'RemoveFailed'
    install_state     text NOT NULL DEFAULT 'Pending',
    installed_crc     text NOT NULL DEFAULT '',   -- CRC the host was last brought to
    installed_version text NOT NULL DEFAULT '',   -- component version on the host
    pull_dp_state     text NOT NULL DEFAULT '',   -- '', 'Installed', 'Uninstalled'
    last_step         text NOT NULL DEFAULT '',
    last_error        text NOT NULL DEFAULT '',
    attempts          int NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_until       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX distribution_points_site ON distribution_points(site_code);

-- DPNotification: a DP change DistMgr's DP manager must act on (removal).
CREATE TABLE dp_notification (
    id           bigserial PRIMARY KEY,
    dpid         bigint NOT NULL,
    time_key     timestamptz NOT NULL DEFAULT now()
);

-- Boundary groups and their site systems.
CREATE TABLE boundary_groups (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    site_code    text REFERENCES sites(site_code)
);
CREATE TABLE boundary_group_members (
    group_id     bigint NOT NULL REFERENCES boundary_groups(id) ON DELETE CASCADE,
    nal_path     text NOT NULL,
    server_name  text NOT NULL,
    PRIMARY KEY (group_id, nal_path)
);

-- Packages and their assignment to DPs. client_setting names the client
-- upgrade setting a default client package fills (FullClientPackageID, ...).
CREATE TABLE packages (
    package_id     text PRIMARY KEY,
    name           text NOT NULL,
    source_version int NOT NULL DEFAULT 1,
    client_setting text UNIQUE
);
CREATE TABLE dp_packages (
    dpid         bigint NOT NULL REFERENCES distribution_points(dpid) ON DELETE CASCADE,
    package_id   text NOT NULL REFERENCES packages(package_id),
    state        text NOT NULL DEFAULT 'Pending',
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dpid, package_id)
);

-- DP certificates (spUpdateDPCert).
CREATE TABLE dp_certificates (
    server_name   text PRIMARY KEY,
    identity_guid text NOT NULL,
    cert_type     int NOT NULL DEFAULT 0,     -- 0 self-signed, 1 PKI
    thumbprint    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Status messages as raised (see lib/include/dpf/statmsg.h).
CREATE TABLE status_messages (
    id             bigserial PRIMARY KEY,
    msg_id         int NOT NULL,
    severity       char(1) NOT NULL,
    level          char(1) NOT NULL,
    source         text NOT NULL,
    component      text NOT NULL,
    system         text NOT NULL,
    site_code      text NOT NULL,
    pid            int NOT NULL,
    tid            bigint NOT NULL,
    raised_at      timestamptz NOT NULL,
    istr           text[] NOT NULL,
    attrs          jsonb NOT NULL DEFAULT '[]',
    correlation_id text NOT NULL DEFAULT ''
);
CREATE INDEX status_messages_lookup ON status_messages(msg_id, site_code);

-- Audit log: who changed what, from where.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    user_name      text NOT NULL,
    app_name       text NOT NULL,
    machine_name   text NOT NULL,
    action         text NOT NULL,       -- created, modified, deleted
    class_name     text NOT NULL,       -- SMS_SCI_SysResUse, SMS_BoundaryGroup
    object         text NOT NULL,
    correlation_id text NOT NULL
);

-- Outbox: written by triggers in the same transaction as the change;
-- dbmon claims rows (FOR UPDATE SKIP LOCKED), publishes, then deletes them.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    subject        text NOT NULL,         -- sitecontrol.changed.PS1, dp.ins.32, dp.dpn.34
    operation      text NOT NULL,         -- INSERT, UPDATE
    table_name     text NOT NULL,         -- SiteControl, DistributionPoints, DPNotification
    trigger_name   text NOT NULL,         -- SiteControl_AddUpd_HMAN, DistributionPoints_Ins, ...
    object_key     text NOT NULL,         -- PS1, 32
    reason         text NOT NULL DEFAULT '',
    correlation_id text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION outbox_add(p_subject text, p_op text, p_table text, p_trigger text,
                           p_key text, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (subject, operation, table_name, trigger_name, object_key, reason, correlation_id)
    VALUES (p_subject, p_op, p_table, p_trigger, p_key, p_reason,
            coalesce(current_setting('dpfleet.correlation_id', true), ''));
    PERFORM pg_notify('dpf_outbox', '');
END $$;

CREATE FUNCTION site_control_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_add('sitecontrol.changed.' || NEW.site_code, TG_OP, 'SiteControl',
                       'SiteControl_AddUpd_HMAN', NEW.site_code, '');
    RETURN NEW;
END $$;
CREATE TRIGGER site_control_addupd_hman AFTER UPDATE ON site_control
    FOR EACH ROW EXECUTE FUNCTION site_control_changed();

-- A DP needs (re)installing when it is new, or when HMAN changed its
-- properties (CRC), or when a reset asked for it (install_state back to
-- 'Pending' with a reason in last_step = 'reset').
CREATE FUNCTION distribution_points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM outbox_add('dp.ins.' || NEW.dpid, 'INSERT', 'DistributionPoints',
                           'DistributionPoints_Ins', NEW.dpid::text, 'insert');
    ELSIF NEW.action = 0 AND NEW.dp_crc IS DISTINCT FROM OLD.dp_crc THEN
        PERFORM outbox_add('dp.ins.' || NEW.dpid, 'UPDATE', 'DistributionPoints',
                           'DistributionPoints_Upd', NEW.dpid::text, 'update');
    ELSIF NEW.action = 0 AND NEW.install_state = 'Pending' AND OLD.install_state <> 'Pending' THEN
        PERFORM outbox_add('dp.ins.' || NEW.dpid, 'UPDATE', 'DistributionPoints',
                           'DistributionPoints_Upd', NEW.dpid::text, 'reset');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER distribution_points_ins AFTER INSERT OR UPDATE ON distribution_points
    FOR EACH ROW EXECUTE FUNCTION distribution_points_changed();

CREATE FUNCTION dp_notification_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_add('dp.dpn.' || NEW.dpid, 'INSERT', 'DPNotification',
                       'DPNotify_ADD', NEW.dpid::text, '');
    RETURN NEW;
END $$;
CREATE TRIGGER dpnotify_add AFTER INSERT ON dp_notification
    FOR EACH ROW EXECUTE FUNCTION dp_notification_added();

-- spUpdateDPCert
CREATE FUNCTION update_dp_cert(p_server text, p_guid text, p_type int, p_thumbprint text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO dp_certificates (server_name, identity_guid, cert_type, thumbprint)
    VALUES (p_server, p_guid, p_type, p_thumbprint)
    ON CONFLICT (server_name) DO UPDATE
        SET identity_guid = EXCLUDED.identity_guid, cert_type = EXCLUDED.cert_type,
            thumbprint = EXCLUDED.thumbprint, updated_at = now();
$$;

-- Seed data: the example site and its default client packages.
INSERT INTO sites (site_code, site_name, server_name)
    VALUES ('PS1', 'ConfigMgr Primary Site 1', 'PS1SITE.CONTOSO.COM');
INSERT INTO site_control (site_code) VALUES ('PS1');
INSERT INTO packages (package_id, name, client_setting) VALUES
    ('CS100002', 'Configuration Manager Client Package', 'FullClientPackageID'),
    ('CS100024', 'Configuration Manager Client Staging Package', 'StagingClientPackageID'),
    ('CS100003', 'Configuration Manager Client Upgrade Package', 'ClientUpgradePackageID'),
    ('CS100025', 'Configuration Manager Client Piloting Package', 'PilotingUpgradePackageID');
INSERT INTO boundary_groups (name, site_code) VALUES ('PS1 Assignment And Content', 'PS1');
