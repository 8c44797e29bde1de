-- Where a published YouTube post's custom thumbnail stands (pending, applied, failed, skipped),
-- set after YouTube has processed the video; NULL for platforms that take the cover with the upload.
ALTER TABLE publications ADD COLUMN cover JSONB;
