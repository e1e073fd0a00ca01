-- Alerts from any record: an alert names the record that raised it (source_kind, source_id) —
-- a questionnaire response as before, a dosing session's vital signs entry or adverse event,
-- later a patient's check-in — and the dosing session that record belongs to, for a link (no
-- foreign key: the dosing tables come in 0012). Every alert so far was raised by a response.
-- response_id stays, still written for response alerts, for its foreign key.

ALTER TABLE alert ADD COLUMN source_kind TEXT;
ALTER TABLE alert ADD COLUMN source_id UUID;
ALTER TABLE alert ADD COLUMN session_id UUID;

UPDATE alert SET source_kind = 'response', source_id = response_id;

CREATE INDEX alert_session ON alert (session_id);

-- A new alert names its source (a trigger, as on SQLite, which cannot add a CHECK to an
-- existing table); a response alert's source is its response.
CREATE FUNCTION alert_source_named() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source_kind IS NULL
       OR NEW.source_kind NOT IN ('response', 'vitals', 'adverse_event', 'checkin')
       OR NEW.source_id IS NULL
       OR (NEW.source_kind = 'response' AND NEW.response_id IS DISTINCT FROM NEW.source_id) THEN
        RAISE EXCEPTION 'an alert names the record that raised it: source_kind (response, vitals, adverse_event or checkin) and source_id';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER alert_source_named BEFORE INSERT ON alert
FOR EACH ROW EXECUTE FUNCTION alert_source_named();

-- What raised an alert never changes.
CREATE FUNCTION alert_source_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the record that raised an alert is never changed'; END $$;
CREATE TRIGGER alert_source_kept BEFORE UPDATE OF source_kind, source_id, session_id ON alert
FOR EACH ROW
WHEN (OLD.source_kind IS DISTINCT FROM NEW.source_kind
      OR OLD.source_id IS DISTINCT FROM NEW.source_id
      OR OLD.session_id IS DISTINCT FROM NEW.session_id)
EXECUTE FUNCTION alert_source_kept();
