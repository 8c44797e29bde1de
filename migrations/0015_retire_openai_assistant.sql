-- OpenAI shut the Assistants API down on 2026-08-26 (and the prompt objects that replaced
-- assistants after it), so the `openai_assistant` rewrite provider is retired. Projects that had
-- it are moved to `openai` (Chat Completions), and each move is recorded as a
-- `project.provider_retired` event (`ProviderRetired` in the OpenAPI document), so the project's
-- event stream says what changed and why. Inputs of scripts and runs stored before keep their
-- `assistant_id`: they stay readable, and nothing runs them again.

-- Event ids must become visible in commit order (see 0001): the writers' lock.
SELECT pg_advisory_xact_lock(x'7265656c666f7267'::bigint);

WITH moved AS (
    UPDATE projects
    SET settings = jsonb_set(settings, '{providers,rewrite}', '"openai"'),
        updated_at = now()
    WHERE settings #>> '{providers,rewrite}' = 'openai_assistant'
    RETURNING id
)
INSERT INTO events (project_id, kind, resource_type, resource_id, data)
SELECT id, 'project.provider_retired', 'project', id, jsonb_build_object(
    'step', 'rewrite',
    'from', 'openai_assistant',
    'to', 'openai',
    'reason', 'OpenAI shut the Assistants API down on 2026-08-26, so the project now writes with '
        || 'Chat Completions (`openai`) and the configured chat model. The assistant''s own '
        || 'instructions were kept at OpenAI and are gone with it: put them in '
        || 'settings.rewrite.instructions.'
)
FROM moved
ORDER BY id;
