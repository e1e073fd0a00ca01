-- Foundation: clinics, staff, sessions, API tokens, inquiries, patients, audit trail.
-- Ids are UUIDv7 (16-byte BLOBs), times are UTC RFC 3339 text, dates are YYYY-MM-DD text.

CREATE TABLE clinic (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    -- What patients are shown about urgent help (e.g. the US 988 Lifeline); set per clinic.
    crisis_resources TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE staff_user (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE staff_membership (
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    role TEXT NOT NULL,
    PRIMARY KEY (staff_id, clinic_id)
);

CREATE TABLE login_session (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    address TEXT
);
CREATE INDEX login_session_staff ON login_session (staff_id);

CREATE TABLE login_attempt (
    id BLOB PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX login_attempt_email ON login_attempt (email, at);
CREATE INDEX login_attempt_address ON login_attempt (address, at);

CREATE TABLE api_token (
    id BLOB PRIMARY KEY NOT NULL,
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE patient (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    full_name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    phone_digits TEXT,
    preferred_contact TEXT NOT NULL,
    address TEXT,
    emergency_name TEXT,
    emergency_phone TEXT,
    emergency_relationship TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB REFERENCES staff_user(id)
);
CREATE INDEX patient_clinic_name ON patient (clinic_id, name_key, id);
CREATE INDEX patient_clinic_dob ON patient (clinic_id, date_of_birth);
CREATE INDEX patient_clinic_email ON patient (clinic_id, email);
CREATE INDEX patient_clinic_updated ON patient (clinic_id, updated_at, id);

CREATE TABLE body_measurement (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patient(id),
    measured_at TEXT NOT NULL,
    weight_g INTEGER,
    height_mm INTEGER,
    recorded_by BLOB REFERENCES staff_user(id)
);
CREATE INDEX body_measurement_patient ON body_measurement (patient_id, measured_at);

CREATE TABLE inquiry (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    preferred_contact TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    patient_id BLOB REFERENCES patient(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX inquiry_clinic_status ON inquiry (clinic_id, status, id);
CREATE INDEX inquiry_clinic_id ON inquiry (clinic_id, id);

CREATE TABLE inquiry_note (
    id BLOB PRIMARY KEY NOT NULL,
    inquiry_id BLOB NOT NULL REFERENCES inquiry(id),
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX inquiry_note_inquiry ON inquiry_note (inquiry_id, created_at);

CREATE TABLE audit_event (
    seq BIGINT PRIMARY KEY NOT NULL,
    id BLOB NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_id BLOB,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT,
    record_id BLOB,
    patient_id BLOB,
    clinic_id BLOB,
    address TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_event_patient ON audit_event (patient_id, seq);
CREATE INDEX audit_event_actor ON audit_event (actor_id, seq);
CREATE INDEX audit_event_action_address ON audit_event (action, address, at);

-- The audit trail is append-only: the database itself refuses edits and deletions.
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
