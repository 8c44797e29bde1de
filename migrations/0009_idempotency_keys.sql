-- Idempotency-Key: one row per token and key. A request that claims a key stores its answer
-- here; a repeat within 24 hours gets that answer instead of doing the work again. Rows are
-- shared by every replica, so a retry that lands elsewhere is recognised too.
CREATE TABLE idempotency_keys (
    token_id uuid NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    -- Null while the first request is still being answered.
    status smallint,
    content_type text,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (created_at);
