-- What each provider call consumed and its estimated cost, priced when it was recorded so a
-- later price change does not rewrite history. One row per metric per job attempt: a retried
-- attempt that reached the provider again was paid again.
CREATE TABLE usage (
    id            BIGSERIAL PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_id        UUID,
    job_id        UUID NOT NULL,
    attempt       INTEGER NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   UUID NOT NULL,
    provider      TEXT NOT NULL,
    metric        TEXT NOT NULL,
    quantity      DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
    unit_price    DOUBLE PRECISION NOT NULL CHECK (unit_price >= 0),
    cost          DOUBLE PRECISION NOT NULL CHECK (cost >= 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (job_id, attempt, metric)
);
CREATE INDEX usage_by_project ON usage (project_id);
CREATE INDEX usage_by_run ON usage (run_id) WHERE run_id IS NOT NULL;

-- A project's completion webhook. The secret signs deliveries and is never returned by the API.
CREATE TABLE project_webhooks (
    project_id UUID PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
