-- Measurement-based care: questionnaire responses with item answers, safety alerts, patient
-- links, the outbound message queue, questionnaire schedules, and per-clinic protocol settings.

CREATE TABLE questionnaire_response (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    instrument TEXT NOT NULL,
    context TEXT NOT NULL,
    source TEXT NOT NULL,
    entered_by UUID REFERENCES staff_user(id),
    complete BOOLEAN NOT NULL,
    total INTEGER,
    band TEXT,
    screen TEXT,
    answered_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX questionnaire_response_patient ON questionnaire_response (patient_id, instrument, answered_at);
CREATE INDEX questionnaire_response_clinic ON questionnaire_response (clinic_id, instrument, answered_at);

CREATE TABLE response_item (
    response_id UUID NOT NULL REFERENCES questionnaire_response(id),
    item_id TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (response_id, item_id)
);

CREATE TABLE alert (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    response_id UUID REFERENCES questionnaire_response(id),
    detail TEXT NOT NULL,
    status TEXT NOT NULL,
    raised_at TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by UUID REFERENCES staff_user(id),
    action_note TEXT
);
CREATE INDEX alert_clinic_status ON alert (clinic_id, status, raised_at);
CREATE INDEX alert_patient ON alert (patient_id, raised_at);

CREATE FUNCTION alert_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'alerts are never deleted'; END $$;
CREATE TRIGGER alert_no_delete BEFORE DELETE ON alert
FOR EACH ROW EXECUTE FUNCTION alert_never_deleted();

CREATE TABLE patient_link (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    instrument TEXT NOT NULL,
    context TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    reminded_at TIMESTAMPTZ,
    response_id UUID REFERENCES questionnaire_response(id)
);
CREATE INDEX patient_link_patient ON patient_link (patient_id, created_at);

CREATE TABLE outbox (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID REFERENCES patient(id),
    link_id UUID REFERENCES patient_link(id),
    to_address TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_clinic_status ON outbox (clinic_id, status, created_at);

CREATE TABLE questionnaire_schedule (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    instrument TEXT NOT NULL,
    every_days INTEGER,
    before_appointment_kind TEXT,
    next_due_at TIMESTAMPTZ,
    active BOOLEAN NOT NULL,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX questionnaire_schedule_due ON questionnaire_schedule (clinic_id, active, next_due_at);

CREATE TABLE clinic_protocol (
    clinic_id UUID PRIMARY KEY NOT NULL REFERENCES clinic(id),
    alert_escalation_minutes INTEGER NOT NULL,
    link_valid_hours INTEGER NOT NULL,
    outcome_rules TEXT NOT NULL
);
