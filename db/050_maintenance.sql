-- Issue 7: DP maintenance mode (seed 000), content validation, and boundary
-- groups with boundaries and neighbors for content location.

-- Maintenance mode is DP information, not site control (the source's
-- SMS_DistributionPointInfo.SetDPMaintenanceMode): the provider writes it
-- directly, with an audit row and its status message, and it never causes a
-- reinstall. Content validation: the schedule is a DP property written by
-- hman from the site control property ContentValidationIntervalHours (part
-- of the DP's CRC, default 168, 0 = off); validation_requested_at is set by
-- POST .../validate or by distmgr when a scheduled validation is due, and a
-- validation job (its own lease) clears it when it has run.
ALTER TABLE distribution_points
    ADD COLUMN maintenance_mode boolean NOT NULL DEFAULT false,
    ADD COLUMN maintenance_changed_by text NOT NULL DEFAULT '',
    ADD COLUMN maintenance_changed_at timestamptz,
    ADD COLUMN content_validation_interval_hours int NOT NULL DEFAULT 168
        CHECK (content_validation_interval_hours BETWEEN 0 AND 8760),
    ADD COLUMN validation_requested_at timestamptz,
    ADD COLUMN last_validation_at timestamptz,
    ADD COLUMN last_validation_result text NOT NULL DEFAULT '',
    ADD COLUMN validation_lease_owner text,
    ADD COLUMN validation_lease_until timestamptz;

-- Two more states of a package on a DP:
--   'WaitingMaintenance'  distributed while the DP is in maintenance mode;
--                         becomes Pending when maintenance mode is turned off
--   'ValidationFailed'    content validation found a file missing or corrupt
--                         (last_error names it); redistribute repairs it
ALTER TABLE dp_packages DROP CONSTRAINT dp_packages_state_check;
ALTER TABLE dp_packages ADD CONSTRAINT dp_packages_state_check
    CHECK (state IN ('Pending', 'InProgress', 'Installed', 'Retrying', 'Failed', 'Removing',
                     'WaitingMaintenance', 'ValidationFailed'));

-- dp.val.<dpid>: a validation was asked for (now or by the schedule).
CREATE FUNCTION dp_validation_requested() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.validation_requested_at IS NOT NULL AND
       NEW.validation_requested_at IS DISTINCT FROM OLD.validation_requested_at THEN
        PERFORM outbox_add('dp.val.' || NEW.dpid, 'UPDATE', 'DistributionPoints',
                           'DistributionPoints_Val', NEW.dpid::text, 'validate');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER distribution_points_val AFTER UPDATE OF validation_requested_at
    ON distribution_points FOR EACH ROW EXECUTE FUNCTION dp_validation_requested();

-- Boundary groups: boundaries, neighbors with a fallback time, and one site
-- default group per site (clients in no group fall back to it after
-- default_fallback_minutes, 120 as the source).
ALTER TABLE boundary_groups
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN is_site_default boolean NOT NULL DEFAULT false,
    ADD COLUMN default_fallback_minutes int NOT NULL DEFAULT 120
        CHECK (default_fallback_minutes >= 0);
CREATE UNIQUE INDEX boundary_groups_one_default ON boundary_groups(site_code)
    WHERE is_site_default;

-- A boundary: an IPv4 or IPv6 subnet (kind 'subnet', net) or an address
-- range a-b (kind 'range', range_start..range_end, same family).
CREATE TABLE boundaries (
    id           bigserial PRIMARY KEY,
    group_id     bigint NOT NULL REFERENCES boundary_groups(id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('subnet', 'range')),
    value        text NOT NULL,           -- as the administrator wrote it
    net          cidr,
    range_start  inet,
    range_end    inet,
    CHECK ((kind = 'subnet' AND net IS NOT NULL AND range_start IS NULL)
        OR (kind = 'range' AND net IS NULL AND range_start IS NOT NULL AND range_end IS NOT NULL
            AND family(range_start) = family(range_end) AND range_start <= range_end)),
    UNIQUE (group_id, value)
);
CREATE INDEX boundaries_net ON boundaries USING gist (net inet_ops);

-- group_id falls back to neighbor_id's DPs after fallback_minutes.
CREATE TABLE boundary_group_neighbors (
    group_id         bigint NOT NULL REFERENCES boundary_groups(id) ON DELETE CASCADE,
    neighbor_id      bigint NOT NULL REFERENCES boundary_groups(id) ON DELETE CASCADE,
    fallback_minutes int NOT NULL DEFAULT 120 CHECK (fallback_minutes >= 0),
    PRIMARY KEY (group_id, neighbor_id),
    CHECK (group_id <> neighbor_id)
);

INSERT INTO boundary_groups (name, site_code, description, is_site_default)
    VALUES ('Default-Site-Boundary-Group<PS1>', 'PS1', 'site default boundary group', true)
    ON CONFLICT (name) DO NOTHING;
