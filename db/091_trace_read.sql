-- 091: what the trace reader (GET /v1/trace/{correlationId}, issue 11)
-- needs besides db/090_trace.sql: the audit row of an action found by its
-- correlation id without a scan of the whole audit log, and the provider
-- allowed to read it (it could only write it).
CREATE INDEX audit_log_corr ON audit_log(correlation_id);
GRANT SELECT ON audit_log TO dpf_provider;
