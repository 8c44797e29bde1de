-- One reel, one preparation in flight: concurrent runs, selections and collections that all find
-- a reel unprepared share one `prepare_reel` job instead of each holding a worker slot on it
-- (enqueueing takes this index with ON CONFLICT DO NOTHING, in the same transaction). Other job
-- kinds fill a resource made for them, so they need no such rule.
--
-- Duplicates an older version queued are settled first: the job the reel points at stays (or the
-- newest, if it points at none in flight); the others are canceled. A worker running one of them
-- loses its lease on its next write and stores nothing.
WITH ranked AS (
    SELECT j.id,
           row_number() OVER (
               PARTITION BY j.resource_type, j.resource_id
               ORDER BY (r.job_id = j.id) DESC NULLS LAST, j.created_at DESC, j.id DESC) AS place
    FROM jobs j
    LEFT JOIN reels r ON r.id = j.resource_id
    WHERE j.kind = 'prepare_reel' AND j.status IN ('queued', 'running') AND j.resource_id IS NOT NULL
)
UPDATE jobs SET status = 'canceled', cancel_requested = true, locked_by = NULL, lease_expires_at = NULL,
    last_error_code = 'canceled', last_error_message = 'another job was already preparing this reel',
    finished_at = now(), updated_at = now()
FROM ranked WHERE jobs.id = ranked.id AND ranked.place > 1;

CREATE UNIQUE INDEX jobs_one_prepare_in_flight ON jobs (resource_type, resource_id)
    WHERE kind = 'prepare_reel' AND status IN ('queued', 'running');
