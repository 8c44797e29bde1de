-- Runs may stop after their scripts for a person's review (`CreateRun.review`), and go on when
-- resumed: `awaiting_review` is a run status, and leaving it wakes the run advancers as a new
-- run does.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'running', 'awaiting_review', 'succeeded', 'failed', 'canceled'));
CREATE TRIGGER runs_notify_resumed AFTER UPDATE OF status ON runs
    FOR EACH ROW
    WHEN (OLD.status = 'awaiting_review' AND NEW.status <> 'awaiting_review')
    EXECUTE FUNCTION reelforge_notify_runs();
