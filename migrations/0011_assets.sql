-- A project's media library: uploaded clips, images, music and fonts, used by renders.
CREATE TABLE assets (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('video', 'image', 'audio', 'font')),
    name         TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,
    size_bytes   BIGINT NOT NULL CHECK (size_bytes >= 0),
    duration_ms  BIGINT,
    width        INTEGER,
    height       INTEGER,
    font_family  TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX assets_by_project ON assets (project_id, created_at DESC, id DESC);
