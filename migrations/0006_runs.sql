-- A pipeline run: steps 3-6 for one or more reels, tracked as one resource. Each reel is driven
-- by its own durable job, which writes its part of `reels`.
CREATE TABLE runs (
    id          UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    input       JSONB NOT NULL,
    reels       JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX runs_by_project ON runs (project_id, created_at DESC, id DESC);
