-- What an unfinished publication waits for on the platform's side (YouTube's quota reset,
-- TikTok's moderation before the post id), and until when; NULL when it waits for nothing.
ALTER TABLE publications ADD COLUMN waiting JSONB;
