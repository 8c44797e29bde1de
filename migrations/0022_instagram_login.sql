-- Which login an Instagram account's token came from: Facebook Login for Business tokens call
-- graph.facebook.com, Instagram Login tokens graph.instagram.com. Tokens are sealed, so SQL
-- cannot read their prefix: the service fills it in for existing accounts when it starts
-- (`IG…` instagram, anything else facebook) and sets it for every new one.
ALTER TABLE platform_accounts
    ADD COLUMN instagram_login TEXT CHECK (instagram_login IN ('facebook', 'instagram')),
    -- When the stored access token was issued: an Instagram Login token can be refreshed
    -- only once it is a day old.
    ADD COLUMN token_issued_at TIMESTAMPTZ;
UPDATE platform_accounts SET token_issued_at = updated_at;
ALTER TABLE platform_accounts ALTER COLUMN token_issued_at SET NOT NULL,
    ALTER COLUMN token_issued_at SET DEFAULT now();
