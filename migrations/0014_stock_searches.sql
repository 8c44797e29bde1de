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
