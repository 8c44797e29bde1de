-- Job payloads become one tagged type (`JobPayload`): each stored payload gains its `type`,
-- read from the keys it was written with, so jobs queued before the upgrade still run.
UPDATE jobs SET payload = CASE
    WHEN kind = 'webhook' THEN jsonb_build_object('type', 'webhook', 'delivery', payload)
    WHEN kind = 'publish' THEN payload || '{"type": "publish"}'
    WHEN payload ? 'run_id' THEN jsonb_build_object('type', 'run_step', 'run_id', payload -> 'run_id')
    WHEN payload ? 'files' THEN jsonb_build_object('type', 'uploaded_files', 'files', payload -> 'files')
    WHEN payload ? 'folder' THEN jsonb_build_object('type', 'folder', 'folder', payload -> 'folder')
    WHEN payload ? 'items' THEN jsonb_build_object('type', 'items', 'items', payload -> 'items')
    WHEN payload ? 'dataset' THEN jsonb_build_object('type', 'dataset', 'dataset', payload -> 'dataset')
    ELSE '{"type": "resource"}'
END
WHERE NOT payload ? 'type';

ALTER TABLE jobs ALTER COLUMN payload SET DEFAULT '{"type": "resource"}'::jsonb;
