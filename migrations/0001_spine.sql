-- The service spine: projects, per-step resources, durable jobs, the event log and API tokens.

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    -- Only the SHA-256 of the token is kept; the token itself is shown once at creation.
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE projects (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    language   TEXT NOT NULL,
    settings   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX projects_newest ON projects (created_at DESC, id DESC);

CREATE TABLE jobs (
    id                UUID PRIMARY KEY,
    project_id        UUID REFERENCES projects (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    resource_type     TEXT,
    resource_id       UUID,
    payload           JSONB NOT NULL DEFAULT '{}'::jsonb,
    attempts          INT NOT NULL DEFAULT 0,
    max_attempts      INT NOT NULL,
    run_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_expires_at  TIMESTAMPTZ,
    locked_by         TEXT,
    cancel_requested  BOOLEAN NOT NULL DEFAULT false,
    progress          SMALLINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    stage             TEXT,
    last_error_code   TEXT,
    last_error_message TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ
);
-- The claim query scans only these two partial indexes.
CREATE INDEX jobs_ready ON jobs (run_at, created_at) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_project ON jobs (project_id, created_at DESC);

-- Every step resource shares these columns; step-specific data lives in `output` until a step
-- issue gives it typed columns of its own.
CREATE TABLE reels (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    input         JSONB NOT NULL DEFAULT '{}'::jsonb,
    output        JSONB,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reels_parent ON reels (project_id, created_at DESC, id DESC);

CREATE TABLE transcripts (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reel_id       UUID NOT NULL REFERENCES reels (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    input         JSONB NOT NULL DEFAULT '{}'::jsonb,
    output        JSONB,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX transcripts_parent ON transcripts (reel_id, created_at DESC, id DESC);

CREATE TABLE scripts (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    transcript_id UUID NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    input         JSONB NOT NULL DEFAULT '{}'::jsonb,
    output        JSONB,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX scripts_parent ON scripts (transcript_id, created_at DESC, id DESC);

CREATE TABLE audio (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    script_id     UUID NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    input         JSONB NOT NULL DEFAULT '{}'::jsonb,
    output        JSONB,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audio_parent ON audio (script_id, created_at DESC, id DESC);

CREATE TABLE videos (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    audio_id      UUID NOT NULL REFERENCES audio (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    input         JSONB NOT NULL DEFAULT '{}'::jsonb,
    output        JSONB,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX videos_parent ON videos (audio_id, created_at DESC, id DESC);

-- The event log behind SSE. Writers take a transaction-scoped advisory lock before inserting, so
-- ids become visible in commit order and a reader resuming after id N can never miss a smaller id
-- that committed later.
CREATE TABLE events (
    id            BIGSERIAL PRIMARY KEY,
    project_id    UUID,
    kind          TEXT NOT NULL,
    resource_type TEXT,
    resource_id   UUID,
    data          JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_project ON events (project_id, id);

-- NOTIFY is sent on commit, so listeners never look for rows they cannot see yet. Identical
-- payloads in one transaction are folded into one notification.
CREATE FUNCTION reelforge_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('reelforge_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reelforge_notify_events();

CREATE FUNCTION reelforge_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'queued' THEN
        PERFORM pg_notify('reelforge_jobs', '');
    END IF;
    IF NEW.status = 'running' AND NEW.cancel_requested THEN
        PERFORM pg_notify('reelforge_job_cancel', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF status, cancel_requested ON jobs
    FOR EACH ROW EXECUTE FUNCTION reelforge_notify_jobs();
