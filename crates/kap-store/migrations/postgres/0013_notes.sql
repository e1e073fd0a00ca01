-- Therapy notes (issue 12). A note is a draft its author edits, then a signed record that never
-- changes: triggers refuse any UPDATE of a signed note and any DELETE at all (a draft its author
-- throws away is marked discarded and kept). Corrections are addenda, appended. A supervised
-- clinician's note names its co-signer when signed; the co-signature is a row of its own,
-- written once. Commitments made by a signed integration note are copied out as rows so later
-- sessions can review them; each review is appended, never changed.
--
-- Psychotherapy notes are kept apart from the record, in tables of their own: nothing that reads
-- the record (chart, timeline, API, export) reads these. Who may read one is named by append-only
-- share rows (granted, then perhaps revoked), written only by the note's author.
--
-- Templates and the notes settings are versioned documents: each save is a new version, none is
-- changed, and a note keeps the template version it was written with.

CREATE FUNCTION note_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% are versioned: save a new version', TG_ARGV[0]; END $$;

CREATE TABLE note_template (
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by UUID REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, kind, version)
);
CREATE TRIGGER note_template_no_update BEFORE UPDATE OR DELETE ON note_template
FOR EACH ROW EXECUTE FUNCTION note_versioned('note templates');

CREATE TABLE note_settings (
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by UUID REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);
CREATE TRIGGER note_settings_no_update BEFORE UPDATE OR DELETE ON note_settings
FOR EACH ROW EXECUTE FUNCTION note_versioned('notes settings');

-- The rule of both note tables: never deleted; a signed or discarded note never changes; a
-- draft keeps its patient, kind and author.
CREATE FUNCTION note_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'notes are never deleted: a draft is discarded, a signed note takes addenda';
    END IF;
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'a signed note is never changed: add an addendum';
    END IF;
    IF OLD.discarded_at IS NOT NULL THEN
        RAISE EXCEPTION 'a discarded draft is never changed';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.clinic_id IS DISTINCT FROM OLD.clinic_id
        OR NEW.patient_id IS DISTINCT FROM OLD.patient_id OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.author_id IS DISTINCT FROM OLD.author_id THEN
        RAISE EXCEPTION 'a note keeps its patient, kind and author';
    END IF;
    RETURN NEW;
END $$;

-- Rows that are only ever appended (addenda, co-signatures, commitments, reviews, shares).
CREATE FUNCTION note_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% are never changed or deleted', TG_ARGV[0]; END $$;

CREATE TABLE note (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL CHECK (kind <> 'psychotherapy'),
    author_id UUID NOT NULL REFERENCES staff_user(id),
    appointment_id UUID REFERENCES appointment(id),
    dosing_session_id UUID REFERENCES dosing_session(id),
    course_id UUID REFERENCES course(id),
    template_version INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    signed_at TIMESTAMPTZ,
    content_hash TEXT,
    cosigner_id UUID REFERENCES staff_user(id),
    discarded_at TIMESTAMPTZ
);
CREATE INDEX note_patient ON note (patient_id, created_at);
CREATE INDEX note_course ON note (course_id, kind, signed_at);
CREATE INDEX note_session ON note (dosing_session_id);
CREATE INDEX note_cosigner ON note (cosigner_id, signed_at);
CREATE INDEX note_unsigned ON note (clinic_id, created_at)
    WHERE signed_at IS NULL AND discarded_at IS NULL;
CREATE TRIGGER note_kept BEFORE UPDATE OR DELETE ON note
FOR EACH ROW EXECUTE FUNCTION note_kept();

CREATE TABLE note_addendum (
    id UUID PRIMARY KEY NOT NULL,
    note_id UUID NOT NULL REFERENCES note(id),
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    author_id UUID NOT NULL REFERENCES staff_user(id),
    written_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX note_addendum_note ON note_addendum (note_id, written_at);
CREATE TRIGGER note_addendum_kept BEFORE UPDATE OR DELETE ON note_addendum
FOR EACH ROW EXECUTE FUNCTION note_appended('addenda');
CREATE FUNCTION note_addendum_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL THEN
        RAISE EXCEPTION 'addenda are for signed notes: edit the draft';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER note_addendum_signed BEFORE INSERT ON note_addendum
FOR EACH ROW EXECUTE FUNCTION note_addendum_signed();

CREATE TABLE note_cosignature (
    note_id UUID PRIMARY KEY NOT NULL REFERENCES note(id),
    cosigned_by UUID NOT NULL REFERENCES staff_user(id),
    cosigned_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX note_cosignature_by ON note_cosignature (cosigned_by);
CREATE TRIGGER note_cosignature_kept BEFORE UPDATE OR DELETE ON note_cosignature
FOR EACH ROW EXECUTE FUNCTION note_appended('co-signatures');
CREATE FUNCTION note_cosignature_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL
        OR (SELECT cosigner_id FROM note WHERE id = NEW.note_id) IS DISTINCT FROM NEW.cosigned_by THEN
        RAISE EXCEPTION 'only the supervisor named on a signed note co-signs it';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER note_cosignature_signed BEFORE INSERT ON note_cosignature
FOR EACH ROW EXECUTE FUNCTION note_cosignature_signed();

CREATE TABLE note_commitment (
    id UUID PRIMARY KEY NOT NULL,
    note_id UUID NOT NULL REFERENCES note(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    course_id UUID REFERENCES course(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    follow_up DATE NOT NULL,
    made_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX note_commitment_patient ON note_commitment (patient_id, made_at);
CREATE INDEX note_commitment_note ON note_commitment (note_id, position);
CREATE TRIGGER note_commitment_kept BEFORE UPDATE OR DELETE ON note_commitment
FOR EACH ROW EXECUTE FUNCTION note_appended('commitments');
CREATE FUNCTION note_commitment_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL THEN
        RAISE EXCEPTION 'commitments come from signed integration notes';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER note_commitment_signed BEFORE INSERT ON note_commitment
FOR EACH ROW EXECUTE FUNCTION note_commitment_signed();

CREATE TABLE commitment_review (
    id UUID PRIMARY KEY NOT NULL,
    commitment_id UUID NOT NULL REFERENCES note_commitment(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    reviewed_by UUID NOT NULL REFERENCES staff_user(id),
    reviewed_at TIMESTAMPTZ NOT NULL,
    during_note_id UUID REFERENCES note(id)
);
CREATE INDEX commitment_review_commitment ON commitment_review (commitment_id, reviewed_at);
CREATE TRIGGER commitment_review_kept BEFORE UPDATE OR DELETE ON commitment_review
FOR EACH ROW EXECUTE FUNCTION note_appended('reviews');

CREATE TABLE psychotherapy_note (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL CHECK (kind = 'psychotherapy'),
    author_id UUID NOT NULL REFERENCES staff_user(id),
    appointment_id UUID REFERENCES appointment(id),
    dosing_session_id UUID REFERENCES dosing_session(id),
    course_id UUID REFERENCES course(id),
    template_version INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    signed_at TIMESTAMPTZ,
    content_hash TEXT,
    cosigner_id UUID REFERENCES staff_user(id),
    discarded_at TIMESTAMPTZ
);
CREATE INDEX psychotherapy_note_patient ON psychotherapy_note (patient_id, created_at);
CREATE INDEX psychotherapy_note_author ON psychotherapy_note (author_id, signed_at, created_at);
CREATE TRIGGER psychotherapy_note_kept BEFORE UPDATE OR DELETE ON psychotherapy_note
FOR EACH ROW EXECUTE FUNCTION note_kept();

CREATE TABLE psychotherapy_note_addendum (
    id UUID PRIMARY KEY NOT NULL,
    note_id UUID NOT NULL REFERENCES psychotherapy_note(id),
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    author_id UUID NOT NULL REFERENCES staff_user(id),
    written_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX psychotherapy_note_addendum_note ON psychotherapy_note_addendum (note_id, written_at);
CREATE TRIGGER psychotherapy_note_addendum_kept BEFORE UPDATE OR DELETE ON psychotherapy_note_addendum
FOR EACH ROW EXECUTE FUNCTION note_appended('addenda');
CREATE FUNCTION psychotherapy_note_addendum_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT signed_at FROM psychotherapy_note WHERE id = NEW.note_id) IS NULL THEN
        RAISE EXCEPTION 'addenda are for signed notes: edit the draft';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER psychotherapy_note_addendum_signed BEFORE INSERT ON psychotherapy_note_addendum
FOR EACH ROW EXECUTE FUNCTION psychotherapy_note_addendum_signed();

CREATE TABLE psychotherapy_note_share (
    id UUID PRIMARY KEY NOT NULL,
    note_id UUID NOT NULL REFERENCES psychotherapy_note(id),
    grantee_id UUID NOT NULL REFERENCES staff_user(id),
    granted BOOLEAN NOT NULL,
    by_staff UUID NOT NULL REFERENCES staff_user(id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX psychotherapy_note_share_note ON psychotherapy_note_share (note_id, grantee_id, at);
CREATE INDEX psychotherapy_note_share_grantee ON psychotherapy_note_share (grantee_id);
CREATE TRIGGER psychotherapy_note_share_kept BEFORE UPDATE OR DELETE ON psychotherapy_note_share
FOR EACH ROW EXECUTE FUNCTION note_appended('shares');
