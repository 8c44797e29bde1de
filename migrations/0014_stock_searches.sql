-- Stock B-roll search answers, kept 24 hours as Pexels' and Pixabay's terms ask, so renders of
-- the same words within a day do not spend the rate limit again.
CREATE TABLE stock_searches (
    provider    text        NOT NULL,
    query       text        NOT NULL,
    orientation text        NOT NULL,
    clips       jsonb       NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, query, orientation)
);
CREATE INDEX stock_searches_fetched_at ON stock_searches (fetched_at);

-- Stock clip files kept in the media store (`stock/...`), with when a render last used each, so
-- files no render has used for a while are deleted instead of piling up.
CREATE TABLE stock_files (
    key          text        PRIMARY KEY,
    last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_files_last_used_at ON stock_files (last_used_at);
