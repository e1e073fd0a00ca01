-- The screening's psychiatric history beyond the checklist: diagnoses as ICD-10-CM codes with
-- their descriptions, psychiatric hospitalisations, suicide attempts and the year of the most
-- recent one, allergies and substance use (an empty text is "none"; NULL is "not asked yet").

ALTER TABLE screening ADD COLUMN hospitalisations INTEGER;
ALTER TABLE screening ADD COLUMN suicide_attempts INTEGER;
ALTER TABLE screening ADD COLUMN last_attempt_year INTEGER;
ALTER TABLE screening ADD COLUMN allergies TEXT;
ALTER TABLE screening ADD COLUMN substance_use TEXT;

CREATE TABLE screening_diagnosis (
    screening_id UUID NOT NULL REFERENCES screening(id),
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (screening_id, code)
);

-- The patient's own history: a single-use, expiring link per request (only the token's hash is
-- kept), and each part the patient saved, as they go, until a clinician confirms it.
CREATE TABLE history_link (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    screening_id UUID NOT NULL REFERENCES screening(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX history_link_screening ON history_link (screening_id, created_at);

CREATE TABLE patient_report (
    screening_id UUID NOT NULL REFERENCES screening(id),
    part TEXT NOT NULL,
    answers TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    link_id UUID REFERENCES history_link(id),
    reviewed_at TIMESTAMPTZ,
    reviewed_by UUID REFERENCES staff_user(id),
    PRIMARY KEY (screening_id, part)
);

ALTER TABLE outbox ADD COLUMN history_link_id UUID REFERENCES history_link(id);
CREATE INDEX outbox_history_link ON outbox (history_link_id);
