-- Alerts from any record: an alert names the record that raised it (source_kind, source_id) —
-- a questionnaire response as before, a dosing session's vital signs entry or adverse event,
-- later a patient's check-in — and the dosing session that record belongs to, for a link (no
-- foreign key: the dosing tables come in 0012). Every alert so far was raised by a response.
-- response_id stays, still written for response alerts, for its foreign key.

ALTER TABLE alert ADD COLUMN source_kind TEXT;
ALTER TABLE alert ADD COLUMN source_id BLOB;
ALTER TABLE alert ADD COLUMN session_id BLOB;

UPDATE alert SET source_kind = 'response', source_id = response_id;

CREATE INDEX alert_session ON alert (session_id);

-- A new alert names its source (SQLite cannot add a CHECK to an existing table); a response
-- alert's source is its response.
CREATE TRIGGER alert_source_named BEFORE INSERT ON alert
WHEN NEW.source_kind IS NULL
  OR NEW.source_kind NOT IN ('response', 'vitals', 'adverse_event', 'checkin')
  OR NEW.source_id IS NULL
  OR (NEW.source_kind = 'response' AND NEW.response_id IS NOT NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'an alert names the record that raised it: source_kind (response, vitals, adverse_event or checkin) and source_id'); END;

-- What raised an alert never changes.
CREATE TRIGGER alert_source_kept BEFORE UPDATE OF source_kind, source_id, session_id ON alert
WHEN OLD.source_kind IS NOT NEW.source_kind
  OR OLD.source_id IS NOT NEW.source_id
  OR OLD.session_id IS NOT NEW.session_id
BEGIN SELECT RAISE(ABORT, 'the record that raised an alert is never changed'); END;
