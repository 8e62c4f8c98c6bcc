-- Issue 9: API tokens. A token's secret ("dpf_" + 43 characters of
-- base64url) is shown once, when it is made, and never stored: the table
-- keeps its SHA-256 (hex), which the provider looks up on each request it
-- has not verified in the last seconds (services/provider/auth.c). A token
-- names the user the audit rows, the provider's log and the status messages
-- carry, and one of the four roles of the README's "Who may do what".
-- Revoking keeps the row (revoked_at), so the list shows who had access.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    user_name     text NOT NULL CHECK (user_name <> '' AND length(user_name) <= 256),
    role          text NOT NULL CHECK (role IN ('Full Administrator', 'Infrastructure Administrator',
                                                'Application Administrator', 'Read-only Analyst')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    secret_sha256 text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$')
);
