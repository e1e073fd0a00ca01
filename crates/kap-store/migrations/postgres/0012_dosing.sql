-- Dosing sessions (issue 11): one session per dosing appointment, under its course's protocol
-- version. What happens at the chair is append-only: vital signs in their own table (numbers a
-- device integration or a chart reads), every other entry (checklist, hold decisions, orders,
-- administrations and their steps, ratings and observations, adverse events and their outcome
-- updates, discharge, REMS answers, addenda) as a typed row with its details as JSON. Each
-- entry keeps when it happened and when it was entered; a client id makes a retried entry from
-- a flaky tablet land once. Nothing is changed or deleted; once the prescriber has co-signed,
-- only addenda may be added (and the date the REMS form was submitted).

CREATE TABLE dosing_session (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    appointment_id UUID NOT NULL UNIQUE REFERENCES appointment(id),
    course_id UUID NOT NULL REFERENCES course(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    protocol_id UUID NOT NULL REFERENCES protocol(id),
    stage TEXT NOT NULL,
    opened_by UUID NOT NULL REFERENCES staff_user(id),
    opened_at TIMESTAMPTZ NOT NULL,
    esketamine BOOLEAN NOT NULL,
    discharged_at TIMESTAMPTZ,
    signed_at TIMESTAMPTZ,
    signed_by UUID REFERENCES staff_user(id),
    content_hash TEXT,
    rems_submitted_on DATE
);
CREATE INDEX dosing_session_patient ON dosing_session (patient_id, opened_at);
CREATE INDEX dosing_session_course ON dosing_session (course_id);
CREATE INDEX dosing_session_rems ON dosing_session (clinic_id, esketamine, rems_submitted_on);

CREATE FUNCTION dosing_session_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'dosing sessions are never deleted'; END IF;
    IF OLD.signed_at IS NOT NULL AND (NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
        OR NEW.stage IS DISTINCT FROM OLD.stage
        OR NEW.discharged_at IS DISTINCT FROM OLD.discharged_at) THEN
        RAISE EXCEPTION 'a signed dosing session is never changed: add an addendum';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dosing_session_no_delete BEFORE DELETE ON dosing_session
FOR EACH ROW EXECUTE FUNCTION dosing_session_kept();
CREATE TRIGGER dosing_session_signed BEFORE UPDATE ON dosing_session
FOR EACH ROW EXECUTE FUNCTION dosing_session_kept();

CREATE TABLE vital_sign (
    id UUID PRIMARY KEY NOT NULL,
    session_id UUID NOT NULL REFERENCES dosing_session(id),
    client_id UUID,
    taken_at TIMESTAMPTZ NOT NULL,
    systolic DOUBLE PRECISION,
    diastolic DOUBLE PRECISION,
    heart_rate DOUBLE PRECISION,
    spo2 DOUBLE PRECISION,
    respiratory_rate DOUBLE PRECISION,
    entered_by UUID NOT NULL REFERENCES staff_user(id),
    entered_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vital_sign_session ON vital_sign (session_id, taken_at);
CREATE UNIQUE INDEX vital_sign_client ON vital_sign (session_id, client_id);

CREATE TABLE dosing_entry (
    id UUID PRIMARY KEY NOT NULL,
    session_id UUID NOT NULL REFERENCES dosing_session(id),
    client_id UUID,
    kind TEXT NOT NULL,
    ref_id UUID,
    at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL,
    entered_by UUID NOT NULL REFERENCES staff_user(id),
    entered_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dosing_entry_session ON dosing_entry (session_id, at);
CREATE UNIQUE INDEX dosing_entry_client ON dosing_entry (session_id, client_id);

CREATE FUNCTION vital_sign_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'vital signs are never changed: add an addendum'; END IF;
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'vital signs are never deleted'; END IF;
    IF (SELECT signed_at FROM dosing_session WHERE id = NEW.session_id) IS NOT NULL THEN
        RAISE EXCEPTION 'the session is signed: add an addendum';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vital_sign_kept BEFORE INSERT OR UPDATE OR DELETE ON vital_sign
FOR EACH ROW EXECUTE FUNCTION vital_sign_kept();

CREATE FUNCTION dosing_entry_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'session entries are never changed: add an addendum'; END IF;
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'session entries are never deleted'; END IF;
    IF NEW.kind <> 'addendum'
        AND (SELECT signed_at FROM dosing_session WHERE id = NEW.session_id) IS NOT NULL THEN
        RAISE EXCEPTION 'the session is signed: add an addendum';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dosing_entry_kept BEFORE INSERT OR UPDATE OR DELETE ON dosing_entry
FOR EACH ROW EXECUTE FUNCTION dosing_entry_kept();
