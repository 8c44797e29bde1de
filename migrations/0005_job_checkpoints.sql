-- What a provider must remember across attempts of one job (a paid remote job's id, say), so a
-- restarted or retried job resumes instead of paying again.
ALTER TABLE jobs ADD COLUMN checkpoint jsonb;
