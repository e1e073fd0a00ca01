-- Dosing sessions (issue 11): one session per dosing appointment, under its course's protocol
-- version. What happens at the chair is append-only: vital signs in their own table (numbers a
-- device integration or a chart reads), every other entry (checklist, hold decisions, orders,
-- administrations and their steps, ratings and observations, adverse events and their outcome
-- updates, discharge, REMS answers, addenda) as a typed row with its details as JSON. Each
-- entry keeps when it happened and when it was entered; a client id makes a retried entry from
-- a flaky tablet land once. Nothing is changed or deleted; once the prescriber has co-signed,
-- only addenda may be added (and the date the REMS form was submitted).

CREATE TABLE dosing_session (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    appointment_id BLOB NOT NULL UNIQUE REFERENCES appointment(id),
    course_id BLOB NOT NULL REFERENCES course(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    protocol_id BLOB NOT NULL REFERENCES protocol(id),
    stage TEXT NOT NULL,
    opened_by BLOB NOT NULL REFERENCES staff_user(id),
    opened_at TEXT NOT NULL,
    esketamine BOOLEAN NOT NULL,
    discharged_at TEXT,
    signed_at TEXT,
    signed_by BLOB REFERENCES staff_user(id),
    content_hash TEXT,
    rems_submitted_on TEXT
);
CREATE INDEX dosing_session_patient ON dosing_session (patient_id, opened_at);
CREATE INDEX dosing_session_course ON dosing_session (course_id);
CREATE INDEX dosing_session_rems ON dosing_session (clinic_id, esketamine, rems_submitted_on);

CREATE TRIGGER dosing_session_no_delete BEFORE DELETE ON dosing_session
BEGIN SELECT RAISE(ABORT, 'dosing sessions are never deleted'); END;
CREATE TRIGGER dosing_session_signed BEFORE UPDATE ON dosing_session
WHEN OLD.signed_at IS NOT NULL AND (NEW.signed_at IS NOT OLD.signed_at
    OR NEW.content_hash IS NOT OLD.content_hash OR NEW.stage IS NOT OLD.stage
    OR NEW.discharged_at IS NOT OLD.discharged_at)
BEGIN SELECT RAISE(ABORT, 'a signed dosing session is never changed: add an addendum'); END;

CREATE TABLE vital_sign (
    id BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES dosing_session(id),
    client_id BLOB,
    taken_at TEXT NOT NULL,
    systolic REAL,
    diastolic REAL,
    heart_rate REAL,
    spo2 REAL,
    respiratory_rate REAL,
    entered_by BLOB NOT NULL REFERENCES staff_user(id),
    entered_at TEXT NOT NULL
);
CREATE INDEX vital_sign_session ON vital_sign (session_id, taken_at);
CREATE UNIQUE INDEX vital_sign_client ON vital_sign (session_id, client_id);
CREATE TRIGGER vital_sign_no_update BEFORE UPDATE ON vital_sign
BEGIN SELECT RAISE(ABORT, 'vital signs are never changed: add an addendum'); END;
CREATE TRIGGER vital_sign_no_delete BEFORE DELETE ON vital_sign
BEGIN SELECT RAISE(ABORT, 'vital signs are never deleted'); END;
CREATE TRIGGER vital_sign_locked BEFORE INSERT ON vital_sign
WHEN (SELECT signed_at FROM dosing_session WHERE id = NEW.session_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the session is signed: add an addendum'); END;

CREATE TABLE dosing_entry (
    id BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES dosing_session(id),
    client_id BLOB,
    kind TEXT NOT NULL,
    ref_id BLOB,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    entered_by BLOB NOT NULL REFERENCES staff_user(id),
    entered_at TEXT NOT NULL
);
CREATE INDEX dosing_entry_session ON dosing_entry (session_id, at);
CREATE UNIQUE INDEX dosing_entry_client ON dosing_entry (session_id, client_id);
CREATE TRIGGER dosing_entry_no_update BEFORE UPDATE ON dosing_entry
BEGIN SELECT RAISE(ABORT, 'session entries are never changed: add an addendum'); END;
CREATE TRIGGER dosing_entry_no_delete BEFORE DELETE ON dosing_entry
BEGIN SELECT RAISE(ABORT, 'session entries are never deleted'); END;
CREATE TRIGGER dosing_entry_locked BEFORE INSERT ON dosing_entry
WHEN NEW.kind <> 'addendum'
    AND (SELECT signed_at FROM dosing_session WHERE id = NEW.session_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the session is signed: add an addendum'); END;
