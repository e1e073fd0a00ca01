-- Patient check-ins between sessions (issue 12): check-in links sent to patients (single-use,
-- expiring; only the token's hash kept; a used link is never made usable again), the check-ins
-- sent through them (never changed or deleted, except the one-time review: who marked it seen,
-- when, with an optional note), each clinic's check-in settings as versions, and check-in
-- schedules. The outbox learns to carry check-in links; alerts are found by their source.

CREATE TABLE checkin_settings (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by BLOB REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);
CREATE TRIGGER checkin_settings_no_update BEFORE UPDATE ON checkin_settings
BEGIN SELECT RAISE(ABORT, 'check-in settings are versioned: save a new version'); END;
CREATE TRIGGER checkin_settings_no_delete BEFORE DELETE ON checkin_settings
BEGIN SELECT RAISE(ABORT, 'check-in settings are versioned: save a new version'); END;

CREATE TABLE checkin_schedule (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL,
    days INTEGER NOT NULL,
    instrument TEXT,
    course_id BLOB REFERENCES course(id),
    next_due_at TEXT,
    active BOOLEAN NOT NULL,
    created_by BLOB REFERENCES staff_user(id),
    created_at TEXT NOT NULL,
    stopped_at TEXT
);
-- One active schedule of each rhythm per patient.
CREATE UNIQUE INDEX checkin_schedule_one_active ON checkin_schedule (patient_id, kind) WHERE active;
CREATE INDEX checkin_schedule_due ON checkin_schedule (next_due_at) WHERE active;
CREATE INDEX checkin_schedule_patient ON checkin_schedule (patient_id, created_at);
CREATE TRIGGER checkin_schedule_no_delete BEFORE DELETE ON checkin_schedule
BEGIN SELECT RAISE(ABORT, 'check-in schedules are stopped, never deleted'); END;

CREATE TABLE checkin_link (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    instrument TEXT,
    course_id BLOB REFERENCES course(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by BLOB REFERENCES staff_user(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    -- What sent it, when a schedule did (and the dosing session an after-dosing link is for:
    -- one link per schedule and session).
    schedule_id BLOB REFERENCES checkin_schedule(id),
    dosing_session_id BLOB REFERENCES dosing_session(id)
);
CREATE INDEX checkin_link_patient ON checkin_link (patient_id, created_at);
CREATE UNIQUE INDEX checkin_link_after_session ON checkin_link (schedule_id, dosing_session_id);
CREATE TRIGGER checkin_link_spent BEFORE UPDATE ON checkin_link
WHEN OLD.used_at IS NOT NULL OR NEW.token_hash IS NOT OLD.token_hash
    OR NEW.patient_id IS NOT OLD.patient_id OR NEW.expires_at IS NOT OLD.expires_at
BEGIN SELECT RAISE(ABORT, 'a used check-in link is never changed, and a link never changes hands'); END;
CREATE TRIGGER checkin_link_no_delete BEFORE DELETE ON checkin_link
BEGIN SELECT RAISE(ABORT, 'check-in links are never deleted'); END;

CREATE TABLE checkin (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    link_id BLOB UNIQUE REFERENCES checkin_link(id),
    course_id BLOB REFERENCES course(id),
    mood INTEGER NOT NULL,
    sleep_half_hours INTEGER,
    sleep_quality TEXT,
    -- Side-effect codes, comma-separated ('' when none).
    side_effects TEXT NOT NULL,
    side_effects_note TEXT,
    reflection TEXT,
    journal TEXT,
    -- The intention the patient was shown.
    intention TEXT,
    response_id BLOB REFERENCES questionnaire_response(id),
    alerts INTEGER NOT NULL,
    top_severity TEXT,
    submitted_at TEXT NOT NULL,
    from_address TEXT,
    reviewed_at TEXT,
    reviewed_by BLOB REFERENCES staff_user(id),
    review_note TEXT
);
CREATE INDEX checkin_patient ON checkin (patient_id, submitted_at);
CREATE INDEX checkin_clinic ON checkin (clinic_id, submitted_at);
-- The review queue: what nobody has marked seen yet.
CREATE INDEX checkin_unseen ON checkin (clinic_id, submitted_at) WHERE reviewed_at IS NULL;
-- What was seen lately (the review list keeps seen check-ins two weeks).
CREATE INDEX checkin_reviewed ON checkin (clinic_id, reviewed_at);

-- A check-in is never changed or deleted; its review is set once (who and when together).
CREATE TRIGGER checkin_no_delete BEFORE DELETE ON checkin
BEGIN SELECT RAISE(ABORT, 'check-ins are never deleted'); END;
CREATE TRIGGER checkin_no_update BEFORE UPDATE ON checkin
WHEN OLD.reviewed_at IS NOT NULL
    OR NEW.reviewed_at IS NULL OR NEW.reviewed_by IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.clinic_id IS NOT OLD.clinic_id
    OR NEW.patient_id IS NOT OLD.patient_id OR NEW.link_id IS NOT OLD.link_id
    OR NEW.course_id IS NOT OLD.course_id OR NEW.mood IS NOT OLD.mood
    OR NEW.sleep_half_hours IS NOT OLD.sleep_half_hours
    OR NEW.sleep_quality IS NOT OLD.sleep_quality OR NEW.side_effects IS NOT OLD.side_effects
    OR NEW.side_effects_note IS NOT OLD.side_effects_note
    OR NEW.reflection IS NOT OLD.reflection OR NEW.journal IS NOT OLD.journal
    OR NEW.intention IS NOT OLD.intention OR NEW.response_id IS NOT OLD.response_id
    OR NEW.alerts IS NOT OLD.alerts OR NEW.top_severity IS NOT OLD.top_severity
    OR NEW.submitted_at IS NOT OLD.submitted_at OR NEW.from_address IS NOT OLD.from_address
BEGIN SELECT RAISE(ABORT, 'a check-in is never changed; it is marked seen once'); END;

ALTER TABLE outbox ADD COLUMN checkin_link_id BLOB REFERENCES checkin_link(id);
CREATE INDEX outbox_checkin_link ON outbox (checkin_link_id);

-- A record's alerts (a check-in's page lists its own and its questionnaire's).
CREATE INDEX alert_source ON alert (source_id, source_kind);
