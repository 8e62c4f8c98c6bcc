-- Status messages go out through the outbox (DESIGN principle 7): raising one
-- writes its status_messages row and an outbox row in the same statement, so
-- inside the caller's transaction both commit or roll back with the state
-- the message reports. dbmon publishes outbox rows whose subject starts with
-- "statmsg." by reading the status_messages row named by object_key.
--
-- The correlation id is the status message's own (given by the raiser), not
-- the transaction's dpfleet.correlation_id setting: a message may be raised
-- outside any transaction that set one.
CREATE FUNCTION statmsg_outbox_add(p_record bigint, p_subject text, p_corr text)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (subject, operation, table_name, trigger_name, object_key, reason,
                        correlation_id)
    VALUES (p_subject, 'INSERT', 'StatusMessages', 'StatusMessages_Ins', p_record::text, '',
            coalesce(p_corr, ''));
    PERFORM pg_notify('dpf_outbox', '');
    RETURN p_record;
END $$;
