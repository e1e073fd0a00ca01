-- Protocols, courses and the calendar (issue 10): each clinic's protocol versions (the file's
-- text kept exactly as uploaded, never changed or deleted; retiring one is a date beside it);
-- its rooms and dosing chairs; treatment courses, each planned under one protocol version from
-- a signed eligibility decision; the appointments a course makes (and single ones), which hold
-- a room, a staff member and the patient for their whole length; the questionnaire links sent
-- before an appointment; and each staff member's calendar feed (only the token's hash kept).

CREATE TABLE protocol (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    route TEXT NOT NULL,
    file_name TEXT NOT NULL,
    body TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    uploaded_by BLOB REFERENCES staff_user(id),
    uploaded_at TEXT NOT NULL,
    UNIQUE (clinic_id, key, version)
);

CREATE TRIGGER protocol_no_update BEFORE UPDATE ON protocol
BEGIN SELECT RAISE(ABORT, 'protocol versions are never changed: upload a new version'); END;
CREATE TRIGGER protocol_no_delete BEFORE DELETE ON protocol
BEGIN SELECT RAISE(ABORT, 'protocol versions are never deleted: retire the protocol'); END;

-- Retiring a protocol (all its versions) stops new courses on it; courses under it go on.
CREATE TABLE protocol_retirement (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    retired_by BLOB REFERENCES staff_user(id),
    retired_at TEXT NOT NULL,
    PRIMARY KEY (clinic_id, key)
);

CREATE TABLE room (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    name TEXT NOT NULL,
    dosing_chair BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX room_name ON room (clinic_id, name);

CREATE TABLE course (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    protocol_id BLOB NOT NULL REFERENCES protocol(id),
    screening_id BLOB NOT NULL REFERENCES screening(id),
    status TEXT NOT NULL,
    status_reason TEXT,
    status_changed_at TEXT NOT NULL,
    dose_unit TEXT NOT NULL,
    dose_amount BIGINT NOT NULL,
    start_date TEXT NOT NULL,
    plan TEXT NOT NULL,
    prescriber_id BLOB REFERENCES staff_user(id),
    therapist_id BLOB REFERENCES staff_user(id),
    created_at TEXT NOT NULL
);
CREATE INDEX course_patient ON course (patient_id, created_at);

-- What happened to a course, in order (status changes with their reasons; never changed).
CREATE TABLE course_event (
    id BLOB PRIMARY KEY NOT NULL,
    course_id BLOB NOT NULL REFERENCES course(id),
    status TEXT NOT NULL,
    reason TEXT,
    by_staff BLOB REFERENCES staff_user(id),
    at TEXT NOT NULL
);
CREATE INDEX course_event_course ON course_event (course_id, at);
CREATE TRIGGER course_event_no_update BEFORE UPDATE ON course_event
BEGIN SELECT RAISE(ABORT, 'course history is never changed'); END;
CREATE TRIGGER course_event_no_delete BEFORE DELETE ON course_event
BEGIN SELECT RAISE(ABORT, 'course history is never deleted'); END;

CREATE TABLE appointment (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    course_id BLOB REFERENCES course(id),
    kind TEXT NOT NULL,
    number INTEGER,
    phase TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    staff_id BLOB REFERENCES staff_user(id),
    room_id BLOB REFERENCES room(id),
    status TEXT NOT NULL,
    status_reason TEXT,
    status_changed_at TEXT NOT NULL,
    created_by BLOB REFERENCES staff_user(id),
    created_at TEXT NOT NULL
);
CREATE INDEX appointment_clinic_time ON appointment (clinic_id, starts_at);
CREATE INDEX appointment_staff_time ON appointment (staff_id, starts_at);
CREATE INDEX appointment_room_time ON appointment (room_id, starts_at);
CREATE INDEX appointment_patient_time ON appointment (patient_id, starts_at);
CREATE INDEX appointment_course ON appointment (course_id, starts_at);

-- The questionnaire link a "before appointment" schedule sent for one appointment (one each).
CREATE TABLE appointment_questionnaire (
    appointment_id BLOB NOT NULL REFERENCES appointment(id),
    schedule_id BLOB NOT NULL REFERENCES questionnaire_schedule(id),
    link_id BLOB REFERENCES patient_link(id),
    sent_at TEXT NOT NULL,
    PRIMARY KEY (appointment_id, schedule_id)
);

ALTER TABLE questionnaire_schedule ADD COLUMN hours_before INTEGER;
ALTER TABLE questionnaire_schedule ADD COLUMN course_id BLOB REFERENCES course(id);
-- One active schedule per questionnaire per patient and rhythm: "PHQ-9 every 14 days" and
-- "PHQ-9 before each dosing session" may run side by side.
DROP INDEX questionnaire_schedule_one_active;
CREATE UNIQUE INDEX questionnaire_schedule_one_active
    ON questionnaire_schedule (patient_id, instrument, COALESCE(before_appointment_kind, '')) WHERE active;
CREATE INDEX questionnaire_schedule_before ON questionnaire_schedule (before_appointment_kind, active);

CREATE TABLE calendar_feed (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX calendar_feed_staff ON calendar_feed (staff_id, clinic_id);

-- Whether calendar feeds (read outside Kapstone) may carry patients' names; off unless the
-- clinic chooses it.
ALTER TABLE clinic ADD COLUMN calendar_shows_names BOOLEAN NOT NULL DEFAULT FALSE;
