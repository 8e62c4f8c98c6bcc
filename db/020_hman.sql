-- The site control changes HMAN has processed, by change id (the outbox id
-- dbmon publishes). Recorded in the same transaction as the change's
-- effects, so a change delivered twice (dbmon republishing after a crash,
-- later than JetStream's duplicate window) is processed once: one 3306.
CREATE TABLE hman_processed_changes (
    change_id    bigint PRIMARY KEY,
    site_code    text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hman_processed_changes_at ON hman_processed_changes(processed_at);
