-- The first week in a real clinic: a clinic's phone number (on every patient page) and time
-- zone; what answer raised an alert (or that the risk question went unanswered); the clinic's
-- choice of alert severities, added to each clinic's settings as a new version.

ALTER TABLE clinic ADD COLUMN phone TEXT;
ALTER TABLE clinic ADD COLUMN time_zone TEXT;

ALTER TABLE alert ADD COLUMN item_id TEXT;
ALTER TABLE alert ADD COLUMN answer_value INTEGER;

INSERT INTO clinic_settings (clinic_id, version, document, saved_at, saved_by)
SELECT s.clinic_id, s.version + 1,
       json_set(s.document,
                '$.phq9_item9_severity', json('["high","urgent","urgent"]'),
                '$.risk_unanswered_severity', 'high'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL
FROM clinic_settings s
WHERE s.version = (SELECT MAX(t.version) FROM clinic_settings t WHERE t.clinic_id = s.clinic_id);

-- One active schedule per questionnaire per patient (two would send the patient the same
-- questionnaire twice). Where earlier versions allowed duplicates, the newest stays active.
UPDATE questionnaire_schedule SET active = FALSE
WHERE active AND EXISTS (
    SELECT 1 FROM questionnaire_schedule n
    WHERE n.patient_id = questionnaire_schedule.patient_id
      AND n.instrument = questionnaire_schedule.instrument
      AND n.active
      AND (n.created_at > questionnaire_schedule.created_at
           OR (n.created_at = questionnaire_schedule.created_at AND n.id > questionnaire_schedule.id)));
CREATE UNIQUE INDEX questionnaire_schedule_one_active
    ON questionnaire_schedule (patient_id, instrument) WHERE active;

-- Search like people search: each patient's folded name and email (lower case, accents
-- removed), filled in by Kapstone itself for existing patients when it migrates (folding is
-- Unicode work SQL cannot do). A substring match (LIKE '%…%') cannot seek, so the search walks
-- this index in name order and tests the text inside each index entry, reading a patient's row
-- only for a match: the first page comes as soon as it is found, and a search that matches
-- nobody reads the index once (measured: bench/README.md). Phone digits likewise. PostgreSQL
-- uses trigram indexes under the same names instead.
ALTER TABLE patient ADD COLUMN search_text TEXT;
CREATE INDEX patient_search ON patient (clinic_id, name_key, id, search_text, phone_digits);
-- Exact phone matches, for the duplicate check.
CREATE INDEX patient_phone ON patient (clinic_id, phone_digits);
