-- Content (issue 6): packages processed from a source directory into the
-- site content library, their versions and files, and their distribution to
-- DPs. The site content library itself is a directory every distmgr replica
-- mounts (DPFLEET_CONTENT_LIBRARY): FileLib/<first 4 hex>/<sha256>, each file
-- once by hash. These tables say which files make up which package version
-- and which DP should hold which version.

-- packages.state:
--   'Processing'    source_version is being read, hashed and stored
--   'Ready'         processed_version is complete in the site library
--   'ProcessFailed' the last processing failed (last_error); the previous
--                   processed_version, if any, stays distributable
--   'Deleting'      DELETE /v1/packages/{id}: its content leaves every DP,
--                   then the package rows go
-- source_version is the version the next (or current) processing makes;
-- processed_version the newest complete one (0 = none yet).
ALTER TABLE packages
    ADD COLUMN seq bigserial UNIQUE,
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN source_path text NOT NULL DEFAULT '',
    ADD COLUMN site_code text REFERENCES sites(site_code),
    ADD COLUMN state text NOT NULL DEFAULT 'Ready'
        CHECK (state IN ('Processing', 'Ready', 'ProcessFailed', 'Deleting')),
    ADD COLUMN processed_version int NOT NULL DEFAULT 0,
    ADD COLUMN file_count int NOT NULL DEFAULT 0,
    ADD COLUMN total_size bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_error text NOT NULL DEFAULT '',
    ADD COLUMN attempts int NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- New package ids: site code + 5 hex digits (PS100001), from this sequence.
CREATE SEQUENCE package_number START 1;

-- One row per processed version of a package.
CREATE TABLE package_versions (
    package_id   text NOT NULL REFERENCES packages(package_id) ON DELETE CASCADE,
    version      int NOT NULL CHECK (version >= 1),
    file_count   int NOT NULL DEFAULT 0,
    total_size   bigint NOT NULL DEFAULT 0,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (package_id, version)
);

-- The files of a package version: relative path ('/'-separated, no '..',
-- no leading '/'), SHA-256 (lower-case hex) and size.
CREATE TABLE package_files (
    package_id   text NOT NULL,
    version      int NOT NULL,
    rel_path     text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL CHECK (size >= 0),
    PRIMARY KEY (package_id, version, rel_path),
    FOREIGN KEY (package_id, version) REFERENCES package_versions(package_id, version)
        ON DELETE CASCADE
);
CREATE INDEX package_files_sha ON package_files(sha256);

-- Boundary groups a package was distributed to: a DP that joins one later
-- gets the package too (distmgr's reconcile and install add the rows).
CREATE TABLE package_boundary_groups (
    package_id   text NOT NULL REFERENCES packages(package_id) ON DELETE CASCADE,
    group_id     bigint NOT NULL REFERENCES boundary_groups(id) ON DELETE CASCADE,
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (package_id, group_id)
);

-- dp_packages: one row per (DP, package) the DP should hold, owned by
-- distmgr's package transfer once written. state:
--   'Pending'     to be transferred (new, redistributed or a new version)
--   'InProgress'  a transfer job holds the lease and is sending files
--   'Installed'   the DP holds installed_version complete and serves it
--   'Retrying'    the last attempt failed (last_error); again at retry_at
--   'Failed'      the retry limit was reached; redistribute to try again
--   'Removing'    the package is to leave the DP; the row goes when it has
-- version: the version the DP should hold (0 = the package has none yet).
ALTER TABLE dp_packages
    ADD COLUMN version int NOT NULL DEFAULT 0,
    ADD COLUMN installed_version int NOT NULL DEFAULT 0,
    ADD COLUMN retry_at timestamptz,
    ADD COLUMN attempts int NOT NULL DEFAULT 0,
    ADD COLUMN last_error text NOT NULL DEFAULT '',
    ADD COLUMN bytes_sent bigint NOT NULL DEFAULT 0,
    ADD COLUMN files_sent int NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE dp_packages ADD CONSTRAINT dp_packages_state_check
    CHECK (state IN ('Pending', 'InProgress', 'Installed', 'Retrying', 'Failed', 'Removing'));
CREATE INDEX dp_packages_package ON dp_packages(package_id, state);

-- Where a DP serves content: 'http://<host>:<port>', as its agent reported
-- it (contentUrl = content_base || '/SMS_DP_SMSPKG$/' || package_id).
ALTER TABLE distribution_points ADD COLUMN content_base text NOT NULL DEFAULT '';

-- The default client packages have no source directory: they are complete,
-- empty, version 1, so a new DP gets them like any other package.
UPDATE packages SET state = 'Ready', processed_version = 1, site_code = 'PS1'
    WHERE client_setting IS NOT NULL;
INSERT INTO package_versions (package_id, version)
    SELECT package_id, 1 FROM packages WHERE client_setting IS NOT NULL;
UPDATE dp_packages d SET version = 1 FROM packages p
    WHERE p.package_id = d.package_id AND p.client_setting IS NOT NULL;

-- Wake-ups: pkg.changed.<seq> whenever a package needs distmgr's package
-- transfer (processing, deletion) or one of its DP rows does (Pending,
-- Removing). One outbox row per package and statement, not per DP: a
-- distribution to 5,000 DPs is one event. Rows of DPs that are not Installed
-- wait quietly: the install wakes them (content_wake_dp).
CREATE FUNCTION package_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IN ('Processing', 'Deleting') AND
       (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state
        OR OLD.source_version IS DISTINCT FROM NEW.source_version) THEN
        PERFORM outbox_add('pkg.changed.' || NEW.seq, TG_OP, 'Packages', 'Packages_Upd',
                           NEW.seq::text, lower(NEW.state));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER packages_changed AFTER INSERT OR UPDATE ON packages
    FOR EACH ROW EXECUTE FUNCTION package_changed();

CREATE FUNCTION dp_packages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_add('pkg.changed.' || p.seq, 'INSERT', 'DpPackages', 'DpPackages_Ins',
                       p.seq::text, 'distribute')
    FROM (SELECT DISTINCT n.package_id FROM new_rows n
          JOIN distribution_points d ON d.dpid = n.dpid AND d.install_state = 'Installed'
          WHERE n.state IN ('Pending', 'Removing')) n
    JOIN packages p USING (package_id);
    RETURN NULL;
END $$;
CREATE TRIGGER dp_packages_ins AFTER INSERT ON dp_packages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dp_packages_inserted();

CREATE FUNCTION dp_packages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_add('pkg.changed.' || p.seq, 'UPDATE', 'DpPackages', 'DpPackages_Upd',
                       p.seq::text, 'distribute')
    FROM (SELECT DISTINCT n.package_id FROM new_rows n JOIN old_rows o USING (dpid, package_id)
          JOIN distribution_points d ON d.dpid = n.dpid AND d.install_state = 'Installed'
          WHERE n.state IN ('Pending', 'Removing')
            AND (o.state IS DISTINCT FROM n.state OR o.version IS DISTINCT FROM n.version)) n
    JOIN packages p USING (package_id);
    RETURN NULL;
END $$;
CREATE TRIGGER dp_packages_upd AFTER UPDATE ON dp_packages
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dp_packages_updated();

-- A DP that was not ready for content (not yet Installed) wakes its waiting
-- packages once it is: distmgr calls this in the transaction that records
-- the install. It first gives the DP the packages distributed to its
-- boundary groups (a DP added to a group later gets them too).
CREATE FUNCTION content_sync_groups(p_dpid bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dp_packages (dpid, package_id)
    SELECT d.dpid, g.package_id
    FROM distribution_points d
    JOIN boundary_group_members m ON m.nal_path = d.nal_path
    JOIN package_boundary_groups g ON g.group_id = m.group_id
    JOIN packages p ON p.package_id = g.package_id AND p.state <> 'Deleting'
    WHERE d.action = 0 AND (p_dpid IS NULL OR d.dpid = p_dpid)
    ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION content_wake_dp(p_dpid bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM content_sync_groups(p_dpid);
    PERFORM outbox_add('pkg.changed.' || p.seq, 'UPDATE', 'DpPackages', 'DpPackages_Wake',
                       p.seq::text, 'dp-ready')
    FROM (SELECT DISTINCT package_id FROM dp_packages
          WHERE dpid = p_dpid AND state IN ('Pending', 'Retrying', 'Removing')) n
    JOIN packages p USING (package_id);
END $$;

-- A row written without a version (hman adding the client packages to a new
-- DP, the provider distributing) targets the newest processed version.
CREATE FUNCTION dp_packages_default_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = 0 THEN
        SELECT processed_version INTO NEW.version FROM packages
            WHERE package_id = NEW.package_id;
        NEW.version := coalesce(NEW.version, 0);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dp_packages_version BEFORE INSERT ON dp_packages
    FOR EACH ROW EXECUTE FUNCTION dp_packages_default_version();
