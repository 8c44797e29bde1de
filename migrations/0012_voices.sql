-- A project's cloned voices: made at a provider (ElevenLabs instant voice cloning) from audio
-- samples of the project's media library.
CREATE TABLE voices (
    id                     UUID PRIMARY KEY,
    project_id             UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    provider               TEXT NOT NULL,
    provider_voice_id      TEXT NOT NULL,
    sample_keys            JSONB NOT NULL,
    description            TEXT,
    requires_verification  BOOLEAN NOT NULL DEFAULT false,
    is_default             BOOLEAN NOT NULL DEFAULT false,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX voices_by_project ON voices (project_id, created_at DESC, id DESC);
-- At most one default voice per project.
CREATE UNIQUE INDEX voices_one_default ON voices (project_id) WHERE is_default;
