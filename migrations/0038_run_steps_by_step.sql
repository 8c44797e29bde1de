-- A run's steps are named by the step (`transcribe`, `rewrite`, `voice`, `render`, `write_post`),
-- as project settings, run overrides and `from_step` name them, no longer by the resource each
-- makes (`transcript`, `script`, `audio`, `video`, `post`). Stored runs and the run events kept
-- for replay are renamed alike, so a client reads one vocabulary whatever a run's age.
CREATE FUNCTION pg_temp.steps_by_step(reels JSONB) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(jsonb_agg(
        CASE WHEN jsonb_typeof(reel) = 'object' AND jsonb_typeof(reel -> 'steps') = 'array' THEN
            jsonb_set(reel, '{steps}', (
                SELECT COALESCE(jsonb_agg(
                    step || jsonb_build_object('step', CASE step ->> 'step'
                        WHEN 'transcript' THEN 'transcribe'
                        WHEN 'script' THEN 'rewrite'
                        WHEN 'audio' THEN 'voice'
                        WHEN 'video' THEN 'render'
                        WHEN 'post' THEN 'write_post'
                        ELSE step ->> 'step'
                    END)
                    ORDER BY step_index), '[]'::jsonb)
                FROM jsonb_array_elements(reel -> 'steps') WITH ORDINALITY AS s (step, step_index)))
        ELSE reel END
        ORDER BY reel_index), '[]'::jsonb)
    FROM jsonb_array_elements(reels) WITH ORDINALITY AS r (reel, reel_index)
$$;

UPDATE runs SET reels = pg_temp.steps_by_step(reels)
WHERE jsonb_typeof(reels) = 'array' AND reels <> pg_temp.steps_by_step(reels);

UPDATE events SET data = jsonb_set(data, '{reels}', pg_temp.steps_by_step(data -> 'reels'))
WHERE kind LIKE 'run.%' AND jsonb_typeof(data -> 'reels') = 'array'
  AND data -> 'reels' <> pg_temp.steps_by_step(data -> 'reels');
