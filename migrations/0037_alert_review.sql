-- An automatic run honours its rule's `review` (never, when_flagged, always), copied onto the alert
-- as `auto_run` is. Alerts raised before keep the behaviour they had: runs that never wait.
ALTER TABLE alerts ADD COLUMN review TEXT NOT NULL DEFAULT 'never'
    CHECK (review IN ('never', 'when_flagged', 'always'));
