-- Issue 8: two content statements whose cost grew with the site's DPs,
-- found at 5,000 DPs with bench/reset BENCH_PG_STATS=1 (pg_stat_statements).
--
-- 1. A transfer job's claim (dm_store_dist_claim, services/distmgr/
--    store_pkg.c) read and sorted every row of the package still to do and
--    hashed every DP to pick the first: 28 ms a claim at 5,000 DPs, one
--    claim per DP and client package, 149 s of database time in a reset.
--    This index holds only the rows still to do, in DPID order, so the
--    claim reads the first few (0.2 ms).
CREATE INDEX dp_packages_todo ON dp_packages (package_id, dpid)
    WHERE state IN ('Pending', 'InProgress', 'Retrying', 'Removing');

-- 2. content_sync_groups(p_dpid) was one SQL statement for one DP and for
--    all, planned once for both with "p_dpid IS NULL OR d.dpid = p_dpid":
--    a scan of every DP on every DP's ready event (2.9 ms at 5,000 DPs
--    against 0.1 ms). The DPs are now the union of two branches, each with
--    a condition on p_dpid alone that PostgreSQL checks once per call: the
--    one-DP branch reads its DP by key, the other every DP.
CREATE OR REPLACE FUNCTION content_sync_groups(p_dpid bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO dp_packages (dpid, package_id)
    SELECT d.dpid, g.package_id
    FROM (SELECT dpid, nal_path FROM distribution_points
          WHERE p_dpid IS NOT NULL AND dpid = p_dpid AND action = 0
          UNION ALL
          SELECT dpid, nal_path FROM distribution_points
          WHERE p_dpid IS NULL AND action = 0) d
    JOIN boundary_group_members m ON m.nal_path = d.nal_path
    JOIN package_boundary_groups g ON g.group_id = m.group_id
    JOIN packages p ON p.package_id = g.package_id AND p.state <> 'Deleting'
    ON CONFLICT DO NOTHING;
$$;
