-- Informed consent: each clinic's consent documents per route as versions (a changed text is a
-- new version; versions are never changed or deleted); consent links sent to patients
-- (single-use, expiring; only the token's hash is kept); signed consents — through a link, or
-- in clinic before a witness — never changed or deleted, and their withdrawals; and the
-- esketamine REMS patient
-- enrolment as a dated history. The outbox learns to carry consent links.

CREATE TABLE consent_document (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    route TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by BLOB REFERENCES staff_user(id),
    UNIQUE (clinic_id, route, version)
);

CREATE TRIGGER consent_document_no_update BEFORE UPDATE ON consent_document
BEGIN SELECT RAISE(ABORT, 'consent documents are versioned: publish a new version'); END;
CREATE TRIGGER consent_document_no_delete BEFORE DELETE ON consent_document
BEGIN SELECT RAISE(ABORT, 'consent documents are versioned: publish a new version'); END;

CREATE TABLE consent_link (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    document_id BLOB NOT NULL REFERENCES consent_document(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by BLOB REFERENCES staff_user(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX consent_link_patient ON consent_link (patient_id, created_at);

CREATE TABLE consent (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    document_id BLOB NOT NULL REFERENCES consent_document(id),
    typed_name TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    understood BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    link_id BLOB UNIQUE REFERENCES consent_link(id),
    from_address TEXT,
    witness BLOB REFERENCES staff_user(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX consent_patient ON consent (patient_id, recorded_at);

CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent
BEGIN SELECT RAISE(ABORT, 'a signed consent is never changed'); END;
CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
BEGIN SELECT RAISE(ABORT, 'a signed consent is never deleted'); END;

-- A patient's withdrawal of a signed consent: a record beside the signature, never an edit
-- of it; a new signature later consents again.
CREATE TABLE consent_withdrawal (
    consent_id BLOB PRIMARY KEY NOT NULL REFERENCES consent(id),
    withdrawn_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by BLOB REFERENCES staff_user(id),
    recorded_at TEXT NOT NULL
);

CREATE TRIGGER consent_withdrawal_no_update BEFORE UPDATE ON consent_withdrawal
BEGIN SELECT RAISE(ABORT, 'a recorded withdrawal is never changed'); END;
CREATE TRIGGER consent_withdrawal_no_delete BEFORE DELETE ON consent_withdrawal
BEGIN SELECT RAISE(ABORT, 'a recorded withdrawal is never deleted'); END;

CREATE TABLE rems_enrolment (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    status TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    reference TEXT,
    recorded_by BLOB REFERENCES staff_user(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX rems_enrolment_patient ON rems_enrolment (patient_id, recorded_at);

ALTER TABLE outbox ADD COLUMN consent_link_id BLOB REFERENCES consent_link(id);
CREATE INDEX outbox_consent_link ON outbox (consent_link_id);
