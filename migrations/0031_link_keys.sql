-- The key that signs media links (`content_url`), made by the first replica to start and read by
-- every other, so links signed by one replica open on all with nothing to configure.
CREATE TABLE link_keys (
    name text PRIMARY KEY,
    secret bytea NOT NULL CHECK (octet_length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
