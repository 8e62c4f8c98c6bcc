-- 090: the timeline of one admin action (issue 11, `dpctl trace`).
--
-- Every component that works on an action appends rows here, keyed by the
-- action's correlation id, in the transaction of the state the row reports
-- where there is one (a step's result with the DP state it moved). With the
-- audit row and the status messages of the same correlation id, these rows
-- are the whole story: what SMSProv.log, smsdbmon.log, hman.log,
-- DistMgr.log and the DP's SMSDPProv.log would each say, in one place that
-- outlives pods and log rotation.
--
-- A step is written twice: once when it starts (result 'running', ended_at
-- NULL) and updated when it ends. A point event (dbmon published a change,
-- hman processed it) is written once with ended_at = at.
CREATE TABLE trace_events (
    id             bigserial PRIMARY KEY,
    correlation_id text NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at       timestamptz,
    component      text NOT NULL,              -- SMS Provider, SMSDBMON, HMAN, DistMgr, DP host
    dpid           bigint,
    server_name    text NOT NULL DEFAULT '',
    job            text NOT NULL DEFAULT '',   -- install, upgrade, remove, distribute, validate, change
    job_id         text NOT NULL DEFAULT '',   -- one attempt of one job (a retry has its own)
    step           text NOT NULL,
    replica        text NOT NULL DEFAULT '',
    tid            bigint NOT NULL DEFAULT 0,
    result         text NOT NULL
        CHECK (result IN ('running', 'ok', 'failed', 'info', 'waiting')),
    message        text NOT NULL DEFAULT '',
    agent_lines    text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX trace_events_corr ON trace_events(correlation_id, at, id);
CREATE INDEX trace_events_server ON trace_events(server_name, at DESC) WHERE server_name <> '';
CREATE INDEX trace_events_at ON trace_events(at);

GRANT INSERT ON trace_events TO dpf_provider, dpf_hman, dpf_distmgr, dpf_dbmon;
GRANT SELECT (id, correlation_id, job_id, step, result) ON trace_events TO dpf_distmgr;
GRANT UPDATE (ended_at, result, message, agent_lines) ON trace_events TO dpf_distmgr;
GRANT SELECT ON trace_events TO dpf_provider, dpf_reader;
GRANT SELECT, DELETE ON trace_events TO dpf_dbmon;            -- retention
GRANT USAGE ON SEQUENCE trace_events_id_seq
    TO dpf_provider, dpf_hman, dpf_distmgr, dpf_dbmon;
-- dbmon's 'publish' rows name the DP a dp.* change is about
GRANT SELECT (dpid, server_name) ON distribution_points TO dpf_dbmon;
