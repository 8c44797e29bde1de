-- Replicas cache valid tokens; a revocation tells every replica to forget the token at once.
CREATE FUNCTION reelforge_notify_token_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
        PERFORM pg_notify('reelforge_tokens', NEW.token_hash);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER api_tokens_revoked AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION reelforge_notify_token_revoked();
