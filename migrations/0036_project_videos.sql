-- `GET /v1/projects/{id}/videos`: a project's videos newest first, a page at a time, whatever
-- voiceover each was rendered from.
CREATE INDEX videos_project ON videos (project_id, created_at DESC, id DESC);
