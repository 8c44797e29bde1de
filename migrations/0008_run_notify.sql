-- Wakes the run advancers only when a run may move on: a run was created, or a job (a step, or
-- a reel's preparation) finished. Listening to every event instead woke them on each progress
-- report and status change, for nothing.
CREATE FUNCTION reelforge_notify_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('reelforge_runs', '');
    RETURN NULL;
END $$;
CREATE TRIGGER runs_notify_created AFTER INSERT ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION reelforge_notify_runs();
CREATE TRIGGER jobs_notify_finished AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (NEW.status IN ('succeeded', 'failed', 'canceled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION reelforge_notify_runs();
