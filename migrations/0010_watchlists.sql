-- The trend radar: watchlists collected on a schedule, alerts on the reels their rules match,
-- automatic runs within a monthly budget.

-- Plays per hour per hour, from the last three observations.
ALTER TABLE reels ADD COLUMN acceleration DOUBLE PRECISION;

CREATE TABLE watchlists (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- The collector and the checked collection input every tick starts (a collection's
    -- `parameters`).
    provider     TEXT NOT NULL,
    collection   JSONB NOT NULL,
    schedule     JSONB NOT NULL,
    rules        JSONB NOT NULL DEFAULT '[]',
    paused       BOOLEAN NOT NULL DEFAULT false,
    -- When the next collection is due; the scheduler moves it past "now" as it starts one, in
    -- the same transaction, so each tick is taken once by one replica.
    next_tick_at TIMESTAMPTZ NOT NULL,
    last_tick_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX watchlists_by_project ON watchlists (project_id, created_at DESC, id DESC);
CREATE INDEX watchlists_due ON watchlists (next_tick_at) WHERE NOT paused;

-- Each tick's collection; the key makes a second collection for one tick impossible.
CREATE TABLE watchlist_ticks (
    watchlist_id  UUID NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    tick_at       TIMESTAMPTZ NOT NULL,
    collection_id UUID NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (watchlist_id, tick_at)
);
CREATE INDEX watchlist_ticks_collection ON watchlist_ticks (collection_id);

-- A rule matched a reel: once per rule and reel. `run_id` is the automatic run it started;
-- `run_skipped` says why none was (the budget, a refusal).
CREATE TABLE alerts (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    watchlist_id UUID NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    rule_id      UUID NOT NULL,
    reel_id      UUID NOT NULL REFERENCES reels (id) ON DELETE CASCADE,
    metrics      JSONB NOT NULL,
    auto_run     BOOLEAN NOT NULL,
    run_id       UUID,
    run_skipped  JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (rule_id, reel_id)
);
CREATE INDEX alerts_by_project ON alerts (project_id, created_at DESC, id DESC);
CREATE INDEX alerts_runs_due ON alerts (created_at) WHERE auto_run AND run_id IS NULL AND run_skipped IS NULL;

-- What a run was estimated to cost when it was accepted, to compare with what it cost.
ALTER TABLE runs ADD COLUMN estimated_cost DOUBLE PRECISION;
CREATE INDEX usage_by_project_time ON usage (project_id, created_at);
CREATE INDEX runs_reels ON runs USING gin (reels jsonb_path_ops);
CREATE INDEX events_alerts ON events (resource_id) WHERE kind = 'alert';
