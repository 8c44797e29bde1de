-- A collected reel's cover (Apify's `displayUrl`), fetched when the reel is collected and kept in
-- the media store: Instagram's CDN links expire within hours, so a list read later still has a
-- picture. NULL until a fetch succeeds; a later collection of the same reel tries again.
ALTER TABLE reels ADD COLUMN cover_key TEXT;
