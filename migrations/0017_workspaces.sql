-- Workspaces: every project and every token belongs to one, and a token reaches only its own
-- workspace's projects and what hangs off them. Existing projects and tokens join `default`.
CREATE TABLE workspaces (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO workspaces (name) VALUES ('default');

ALTER TABLE projects ADD COLUMN workspace_id UUID REFERENCES workspaces (id);
UPDATE projects SET workspace_id = (SELECT id FROM workspaces WHERE name = 'default');
ALTER TABLE projects ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX projects_by_workspace ON projects (workspace_id, created_at DESC, id DESC);

-- `read` may only read, `write` also changes things, `admin` also manages the workspace's
-- tokens. Existing tokens keep what they could do: everything but token management, which did
-- not exist over the API.
ALTER TABLE api_tokens
    ADD COLUMN workspace_id UUID REFERENCES workspaces (id),
    ADD COLUMN scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write', 'admin'));
UPDATE api_tokens SET workspace_id = (SELECT id FROM workspaces WHERE name = 'default');
ALTER TABLE api_tokens ALTER COLUMN workspace_id SET NOT NULL;
ALTER TABLE api_tokens ALTER COLUMN scope DROP DEFAULT;

-- The event stream shows a token only its workspace's events; the workspace is stamped on each
-- event as it is written (from its project), so the stream filters without a join. Events of
-- no project belong to no workspace and reach no stream.
ALTER TABLE events ADD COLUMN workspace_id UUID;
UPDATE events e SET workspace_id = p.workspace_id FROM projects p WHERE p.id = e.project_id;
CREATE INDEX events_workspace ON events (workspace_id, id);
