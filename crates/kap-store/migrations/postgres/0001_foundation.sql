-- Foundation: clinics, staff, sessions, API tokens, inquiries, patients, audit trail.
-- Ids are UUIDv7, times are TIMESTAMPTZ (UTC), dates are DATE.

CREATE TABLE clinic (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    -- What patients are shown about urgent help (e.g. the US 988 Lifeline); set per clinic.
    crisis_resources TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_user (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_membership (
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    role TEXT NOT NULL,
    PRIMARY KEY (staff_id, clinic_id)
);

CREATE TABLE login_session (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    address TEXT
);
CREATE INDEX login_session_staff ON login_session (staff_id);

CREATE TABLE login_attempt (
    id UUID PRIMARY KEY NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX login_attempt_email ON login_attempt (email, at);
CREATE INDEX login_attempt_address ON login_attempt (address, at);

CREATE TABLE api_token (
    id UUID PRIMARY KEY NOT NULL,
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE patient (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    full_name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    sex TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    phone_digits TEXT,
    preferred_contact TEXT NOT NULL,
    address TEXT,
    emergency_name TEXT,
    emergency_phone TEXT,
    emergency_relationship TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID REFERENCES staff_user(id)
);
CREATE INDEX patient_clinic_name ON patient (clinic_id, name_key, id);
CREATE INDEX patient_clinic_dob ON patient (clinic_id, date_of_birth);
CREATE INDEX patient_clinic_email ON patient (clinic_id, email);
CREATE INDEX patient_clinic_updated ON patient (clinic_id, updated_at, id);

CREATE TABLE body_measurement (
    id UUID PRIMARY KEY NOT NULL,
    patient_id UUID NOT NULL REFERENCES patient(id),
    measured_at TIMESTAMPTZ NOT NULL,
    weight_g INTEGER,
    height_mm INTEGER,
    recorded_by UUID REFERENCES staff_user(id)
);
CREATE INDEX body_measurement_patient ON body_measurement (patient_id, measured_at);

CREATE TABLE inquiry (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    preferred_contact TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    patient_id UUID REFERENCES patient(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX inquiry_clinic_status ON inquiry (clinic_id, status, id);
CREATE INDEX inquiry_clinic_id ON inquiry (clinic_id, id);

CREATE TABLE inquiry_note (
    id UUID PRIMARY KEY NOT NULL,
    inquiry_id UUID NOT NULL REFERENCES inquiry(id),
    author_id UUID NOT NULL REFERENCES staff_user(id),
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX inquiry_note_inquiry ON inquiry_note (inquiry_id, created_at);

CREATE TABLE audit_event (
    seq BIGINT PRIMARY KEY NOT NULL,
    id UUID NOT NULL UNIQUE,
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT,
    record_id UUID,
    patient_id UUID,
    clinic_id UUID,
    address TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_event_patient ON audit_event (patient_id, seq);
CREATE INDEX audit_event_actor ON audit_event (actor_id, seq);
CREATE INDEX audit_event_action_address ON audit_event (action, address, at);

-- The audit trail is append-only: the database itself refuses edits and deletions.
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$;
CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
