-- Step 1-2: collections gather reels; reels carry their metrics and ranking inputs.

-- A collection is a resource like the step resources (its job fills it); `input` holds the
-- parameters, `output` the counts and the problems list.
CREATE TABLE collections (
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
CREATE INDEX collections_parent ON collections (project_id, created_at DESC, id DESC);

-- A collected reel whose media nobody asked for yet is `pending`.
ALTER TABLE reels
    ADD COLUMN collection_id    UUID REFERENCES collections (id) ON DELETE SET NULL,
    ADD COLUMN external_id      TEXT,
    ADD COLUMN short_code       TEXT,
    ADD COLUMN url              TEXT,
    ADD COLUMN caption          TEXT,
    ADD COLUMN caption_language TEXT,
    ADD COLUMN hashtags         TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN owner_username   TEXT,
    ADD COLUMN owner_id         TEXT,
    ADD COLUMN posted_at        TIMESTAMPTZ,
    ADD COLUMN video_url        TEXT,
    ADD COLUMN cover_url        TEXT,
    ADD COLUMN duration_ms      BIGINT,
    ADD COLUMN width            INT,
    ADD COLUMN height           INT,
    ADD COLUMN plays            BIGINT,
    ADD COLUMN views            BIGINT,
    ADD COLUMN likes            BIGINT,
    ADD COLUMN comments         BIGINT,
    ADD COLUMN shares           BIGINT,
    ADD COLUMN engagement_rate  DOUBLE PRECISION,
    ADD COLUMN velocity         DOUBLE PRECISION,
    ADD COLUMN recent_velocity  DOUBLE PRECISION,
    ADD COLUMN outlier_score    DOUBLE PRECISION,
    ADD COLUMN trend_score      DOUBLE PRECISION,
    ADD COLUMN selected         BOOLEAN NOT NULL DEFAULT false;
-- Duplicates within a project are merged on this key, never stored twice.
CREATE UNIQUE INDEX reels_project_external ON reels (project_id, external_id);
CREATE INDEX reels_owner ON reels (project_id, owner_username);

-- Every observation of a reel's metrics, so velocity can come from the last two.
CREATE TABLE reel_snapshots (
    reel_id     UUID NOT NULL REFERENCES reels (id) ON DELETE CASCADE,
    observed_at TIMESTAMPTZ NOT NULL,
    plays       BIGINT,
    likes       BIGINT,
    comments    BIGINT,
    shares      BIGINT,
    PRIMARY KEY (reel_id, observed_at)
);
