-- Step 7, publishing: the post's words for a video (a step resource like the others), the
-- platform accounts a project posts with, and each post to a platform.

CREATE TABLE posts (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    video_id      UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
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
CREATE INDEX posts_parent ON posts (video_id, created_at DESC, id DESC);

CREATE TABLE platform_accounts (
    id             UUID PRIMARY KEY,
    project_id     UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    platform       TEXT NOT NULL CHECK (platform IN ('instagram', 'youtube', 'tiktok')),
    name           TEXT NOT NULL,
    -- The platform's id of the account: an Instagram user id, a TikTok open_id, a channel id.
    external_id    TEXT,
    -- Sealed with ChaCha20-Poly1305 under `publishing.token_key`: nonce, then ciphertext.
    access_token   BYTEA NOT NULL,
    refresh_token  BYTEA,
    expires_at     TIMESTAMPTZ,
    status         TEXT NOT NULL DEFAULT 'connected'
                   CHECK (status IN ('connected', 'reauthorization_needed')),
    status_reason  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX platform_accounts_by_project ON platform_accounts (project_id, created_at DESC, id DESC);

CREATE TABLE publications (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    video_id      UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    account_id    UUID NOT NULL REFERENCES platform_accounts (id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN
                  ('scheduled', 'uploading', 'processing', 'published', 'failed', 'canceled')),
    -- What was asked for: the words, privacy, schedule and platform options, as checked.
    request       JSONB NOT NULL,
    schedule_at   TIMESTAMPTZ,
    job_id        UUID REFERENCES jobs (id) ON DELETE SET NULL,
    post_id       TEXT,
    post_url      TEXT,
    -- `published` for a post, `inbox` for a TikTok draft the creator finishes in the app.
    outcome       TEXT,
    error_code    TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ
);
CREATE INDEX publications_by_video ON publications (video_id, created_at DESC, id DESC);
-- One live post of a video per account: a second request (another run, a repeated call) finds
-- the first instead of posting again.
CREATE UNIQUE INDEX publications_one_per_account ON publications (video_id, account_id)
    WHERE status IN ('scheduled', 'uploading', 'processing', 'published');
CREATE INDEX publications_by_project ON publications (project_id, created_at DESC, id DESC);

-- Each OAuth connect link's nonce, used once: a link cannot connect two accounts.
CREATE TABLE oauth_states (
    nonce       TEXT PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL
);
