-- The first week in a real clinic: a clinic's phone number (on every patient page) and time
-- zone; what answer raised an alert (or that the risk question went unanswered); the clinic's
-- choice of alert severities, added to each clinic's settings as a new version.

ALTER TABLE clinic ADD COLUMN phone TEXT;
ALTER TABLE clinic ADD COLUMN time_zone TEXT;

ALTER TABLE alert ADD COLUMN item_id TEXT;
ALTER TABLE alert ADD COLUMN answer_value INTEGER;

INSERT INTO clinic_settings (clinic_id, version, document, saved_at, saved_by)
SELECT s.clinic_id, s.version + 1,
       (s.document::jsonb
        || '{"phq9_item9_severity": ["high", "urgent", "urgent"], "risk_unanswered_severity": "high"}'::jsonb)::text,
       now(), NULL
FROM clinic_settings s
WHERE s.version = (SELECT MAX(t.version) FROM clinic_settings t WHERE t.clinic_id = s.clinic_id);
