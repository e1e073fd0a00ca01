-- Patient check-ins between sessions (issue 12): check-in links sent to patients (single-use,
-- expiring; only the token's hash kept; a used link is never made usable again), the check-ins
-- sent through them (never changed or deleted, except the one-time review: who marked it seen,
-- when, with an optional note), each clinic's check-in settings as versions, and check-in
-- schedules. The outbox learns to carry check-in links; alerts are found by their source.

CREATE TABLE checkin_settings (
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by UUID REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);
CREATE FUNCTION checkin_settings_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'check-in settings are versioned: save a new version'; END $$;
CREATE TRIGGER checkin_settings_no_update BEFORE UPDATE ON checkin_settings
FOR EACH ROW EXECUTE FUNCTION checkin_settings_versioned();
CREATE TRIGGER checkin_settings_no_delete BEFORE DELETE ON checkin_settings
FOR EACH ROW EXECUTE FUNCTION checkin_settings_versioned();

CREATE TABLE checkin_schedule (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL,
    days INTEGER NOT NULL,
    instrument TEXT,
    course_id UUID REFERENCES course(id),
    next_due_at TIMESTAMPTZ,
    active BOOLEAN NOT NULL,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    stopped_at TIMESTAMPTZ
);
-- One active schedule of each rhythm per patient.
CREATE UNIQUE INDEX checkin_schedule_one_active ON checkin_schedule (patient_id, kind) WHERE active;
CREATE INDEX checkin_schedule_due ON checkin_schedule (next_due_at) WHERE active;
CREATE INDEX checkin_schedule_patient ON checkin_schedule (patient_id, created_at);
CREATE FUNCTION checkin_schedule_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'check-in schedules are stopped, never deleted'; END $$;
CREATE TRIGGER checkin_schedule_no_delete BEFORE DELETE ON checkin_schedule
FOR EACH ROW EXECUTE FUNCTION checkin_schedule_kept();

CREATE TABLE checkin_link (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    instrument TEXT,
    course_id UUID REFERENCES course(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by UUID REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    -- What sent it, when a schedule did (and the dosing session an after-dosing link is for:
    -- one link per schedule and session).
    schedule_id UUID REFERENCES checkin_schedule(id),
    dosing_session_id UUID REFERENCES dosing_session(id)
);
CREATE INDEX checkin_link_patient ON checkin_link (patient_id, created_at);
CREATE UNIQUE INDEX checkin_link_after_session ON checkin_link (schedule_id, dosing_session_id);
CREATE FUNCTION checkin_link_spent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'check-in links are never deleted';
    END IF;
    IF OLD.used_at IS NOT NULL OR NEW.token_hash IS DISTINCT FROM OLD.token_hash
        OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
        OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'a used check-in link is never changed, and a link never changes hands';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER checkin_link_spent BEFORE UPDATE ON checkin_link
FOR EACH ROW EXECUTE FUNCTION checkin_link_spent();
CREATE TRIGGER checkin_link_no_delete BEFORE DELETE ON checkin_link
FOR EACH ROW EXECUTE FUNCTION checkin_link_spent();

CREATE TABLE checkin (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    link_id UUID UNIQUE REFERENCES checkin_link(id),
    course_id UUID REFERENCES course(id),
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
    response_id UUID REFERENCES questionnaire_response(id),
    alerts INTEGER NOT NULL,
    top_severity TEXT,
    submitted_at TIMESTAMPTZ NOT NULL,
    from_address TEXT,
    reviewed_at TIMESTAMPTZ,
    reviewed_by UUID REFERENCES staff_user(id),
    review_note TEXT
);
CREATE INDEX checkin_patient ON checkin (patient_id, submitted_at);
CREATE INDEX checkin_clinic ON checkin (clinic_id, submitted_at);
-- The review queue: what nobody has marked seen yet.
CREATE INDEX checkin_unseen ON checkin (clinic_id, submitted_at) WHERE reviewed_at IS NULL;
-- What was seen lately (the review list keeps seen check-ins two weeks).
CREATE INDEX checkin_reviewed ON checkin (clinic_id, reviewed_at);

-- A check-in is never changed or deleted; its review is set once (who and when together).
CREATE FUNCTION checkin_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'check-ins are never deleted';
    END IF;
    IF OLD.reviewed_at IS NOT NULL OR NEW.reviewed_at IS NULL OR NEW.reviewed_by IS NULL
        OR (NEW.id, NEW.clinic_id, NEW.patient_id, NEW.link_id, NEW.course_id, NEW.mood,
            NEW.sleep_half_hours, NEW.sleep_quality, NEW.side_effects, NEW.side_effects_note,
            NEW.reflection, NEW.journal, NEW.intention, NEW.response_id, NEW.alerts,
            NEW.top_severity, NEW.submitted_at, NEW.from_address)
        IS DISTINCT FROM
           (OLD.id, OLD.clinic_id, OLD.patient_id, OLD.link_id, OLD.course_id, OLD.mood,
            OLD.sleep_half_hours, OLD.sleep_quality, OLD.side_effects, OLD.side_effects_note,
            OLD.reflection, OLD.journal, OLD.intention, OLD.response_id, OLD.alerts,
            OLD.top_severity, OLD.submitted_at, OLD.from_address) THEN
        RAISE EXCEPTION 'a check-in is never changed; it is marked seen once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER checkin_no_update BEFORE UPDATE ON checkin
FOR EACH ROW EXECUTE FUNCTION checkin_kept();
CREATE TRIGGER checkin_no_delete BEFORE DELETE ON checkin
FOR EACH ROW EXECUTE FUNCTION checkin_kept();

ALTER TABLE outbox ADD COLUMN checkin_link_id UUID REFERENCES checkin_link(id);
CREATE INDEX outbox_checkin_link ON outbox (checkin_link_id);

-- A record's alerts (a check-in's page lists its own and its questionnaire's).
CREATE INDEX alert_source ON alert (source_id, source_kind);
