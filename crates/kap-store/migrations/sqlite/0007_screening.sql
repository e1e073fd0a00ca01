-- Screening and eligibility: one screening per intake (a person may be screened again; earlier
-- screenings are kept), its checklist answers, current medications, treatment trials and
-- baseline vitals; the prescriber's signed decision, which locks it; addenda after that; and
-- each clinic's screening protocol (contraindication rules and TRD definition) as versioned
-- documents.

CREATE TABLE screening (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    started_at TEXT NOT NULL,
    started_by BLOB REFERENCES staff_user(id),
    episode_months INTEGER,
    severity TEXT,
    -- The medication list has been taken (an empty list then means "none").
    medications_taken BOOLEAN NOT NULL DEFAULT FALSE,
    systolic INTEGER,
    diastolic INTEGER,
    heart_rate INTEGER,
    spo2 INTEGER,
    decision TEXT,
    rationale TEXT,
    routes TEXT,
    justifications TEXT,
    signed_by BLOB REFERENCES staff_user(id),
    signed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX screening_patient ON screening (patient_id, started_at);

CREATE TABLE screening_condition (
    screening_id BLOB NOT NULL REFERENCES screening(id),
    condition TEXT NOT NULL,
    present BOOLEAN NOT NULL,
    PRIMARY KEY (screening_id, condition)
);

CREATE TABLE screening_medication (
    id BLOB PRIMARY KEY NOT NULL,
    screening_id BLOB NOT NULL REFERENCES screening(id),
    name TEXT NOT NULL,
    class TEXT,
    -- Daily diazepam-equivalent dose in tenths of a milligram (no floating point stored).
    diazepam_eq_tenths INTEGER
);
CREATE INDEX screening_medication_screening ON screening_medication (screening_id);

CREATE TABLE screening_trial (
    id BLOB PRIMARY KEY NOT NULL,
    screening_id BLOB NOT NULL REFERENCES screening(id),
    kind TEXT NOT NULL,
    class TEXT,
    name TEXT NOT NULL,
    weeks INTEGER,
    adequate BOOLEAN,
    outcome TEXT NOT NULL,
    current_episode BOOLEAN NOT NULL
);
CREATE INDEX screening_trial_screening ON screening_trial (screening_id);

CREATE TABLE screening_addendum (
    id BLOB PRIMARY KEY NOT NULL,
    screening_id BLOB NOT NULL REFERENCES screening(id),
    author BLOB REFERENCES staff_user(id),
    written_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX screening_addendum_screening ON screening_addendum (screening_id, written_at);

CREATE TABLE screening_protocol (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by BLOB REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);
