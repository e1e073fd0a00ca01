-- Informed consent: each clinic's consent documents per route as versions (a changed text is a
-- new version; versions are never changed or deleted); consent links sent to patients
-- (single-use, expiring; only the token's hash is kept); signed consents — through a link, or
-- in clinic before a witness — never changed or deleted, and their withdrawals; and the
-- esketamine REMS patient
-- enrolment as a dated history. The outbox learns to carry consent links.

CREATE TABLE consent_document (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    route TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by UUID REFERENCES staff_user(id),
    UNIQUE (clinic_id, route, version)
);

CREATE FUNCTION consent_document_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'consent documents are versioned: publish a new version'; END $$;
CREATE TRIGGER consent_document_no_update BEFORE UPDATE ON consent_document
FOR EACH ROW EXECUTE FUNCTION consent_document_versioned();
CREATE TRIGGER consent_document_no_delete BEFORE DELETE ON consent_document
FOR EACH ROW EXECUTE FUNCTION consent_document_versioned();

CREATE TABLE consent_link (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    document_id UUID NOT NULL REFERENCES consent_document(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX consent_link_patient ON consent_link (patient_id, created_at);

CREATE TABLE consent (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    document_id UUID NOT NULL REFERENCES consent_document(id),
    typed_name TEXT NOT NULL,
    signed_on DATE NOT NULL,
    understood BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    link_id UUID UNIQUE REFERENCES consent_link(id),
    from_address TEXT,
    witness UUID REFERENCES staff_user(id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX consent_patient ON consent (patient_id, recorded_at);

CREATE FUNCTION consent_never_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a signed consent is never changed or deleted'; END $$;
CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent
FOR EACH ROW EXECUTE FUNCTION consent_never_changed();
CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
FOR EACH ROW EXECUTE FUNCTION consent_never_changed();

-- A patient's withdrawal of a signed consent: a record beside the signature, never an edit
-- of it; a new signature later consents again.
CREATE TABLE consent_withdrawal (
    consent_id UUID PRIMARY KEY NOT NULL REFERENCES consent(id),
    withdrawn_on DATE NOT NULL,
    reason TEXT NOT NULL,
    recorded_by UUID REFERENCES staff_user(id),
    recorded_at TIMESTAMPTZ NOT NULL
);

CREATE TRIGGER consent_withdrawal_no_update BEFORE UPDATE ON consent_withdrawal
FOR EACH ROW EXECUTE FUNCTION consent_never_changed();
CREATE TRIGGER consent_withdrawal_no_delete BEFORE DELETE ON consent_withdrawal
FOR EACH ROW EXECUTE FUNCTION consent_never_changed();

CREATE TABLE rems_enrolment (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    status TEXT NOT NULL,
    effective_on DATE NOT NULL,
    reference TEXT,
    recorded_by UUID REFERENCES staff_user(id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rems_enrolment_patient ON rems_enrolment (patient_id, recorded_at);

ALTER TABLE outbox ADD COLUMN consent_link_id UUID REFERENCES consent_link(id);
CREATE INDEX outbox_consent_link ON outbox (consent_link_id);
