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

CREATE TABLE note_template (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by BLOB REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, kind, version)
);
CREATE TRIGGER note_template_no_update BEFORE UPDATE ON note_template
BEGIN SELECT RAISE(ABORT, 'note templates are versioned: save a new version'); END;
CREATE TRIGGER note_template_no_delete BEFORE DELETE ON note_template
BEGIN SELECT RAISE(ABORT, 'note templates are versioned: save a new version'); END;

CREATE TABLE note_settings (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by BLOB REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);
CREATE TRIGGER note_settings_no_update BEFORE UPDATE ON note_settings
BEGIN SELECT RAISE(ABORT, 'notes settings are versioned: save a new version'); END;
CREATE TRIGGER note_settings_no_delete BEFORE DELETE ON note_settings
BEGIN SELECT RAISE(ABORT, 'notes settings are versioned: save a new version'); END;

CREATE TABLE note (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL CHECK (kind <> 'psychotherapy'),
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    appointment_id BLOB REFERENCES appointment(id),
    dosing_session_id BLOB REFERENCES dosing_session(id),
    course_id BLOB REFERENCES course(id),
    template_version INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    signed_at TEXT,
    content_hash TEXT,
    cosigner_id BLOB REFERENCES staff_user(id),
    discarded_at TEXT
);
CREATE INDEX note_patient ON note (patient_id, created_at);
CREATE INDEX note_course ON note (course_id, kind, signed_at);
CREATE INDEX note_session ON note (dosing_session_id);
CREATE INDEX note_cosigner ON note (cosigner_id, signed_at);
CREATE INDEX note_unsigned ON note (clinic_id, created_at)
    WHERE signed_at IS NULL AND discarded_at IS NULL;
CREATE TRIGGER note_no_delete BEFORE DELETE ON note
BEGIN SELECT RAISE(ABORT, 'notes are never deleted: a draft is discarded, a signed note takes addenda'); END;
CREATE TRIGGER note_signed BEFORE UPDATE ON note WHEN OLD.signed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a signed note is never changed: add an addendum'); END;
CREATE TRIGGER note_discarded BEFORE UPDATE ON note WHEN OLD.discarded_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a discarded draft is never changed'); END;
CREATE TRIGGER note_identity BEFORE UPDATE ON note
WHEN NEW.id IS NOT OLD.id OR NEW.clinic_id IS NOT OLD.clinic_id
    OR NEW.patient_id IS NOT OLD.patient_id OR NEW.kind IS NOT OLD.kind
    OR NEW.author_id IS NOT OLD.author_id
BEGIN SELECT RAISE(ABORT, 'a note keeps its patient, kind and author'); END;

CREATE TABLE note_addendum (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES note(id),
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    written_at TEXT NOT NULL
);
CREATE INDEX note_addendum_note ON note_addendum (note_id, written_at);
CREATE TRIGGER note_addendum_no_update BEFORE UPDATE ON note_addendum
BEGIN SELECT RAISE(ABORT, 'addenda are never changed: add another addendum'); END;
CREATE TRIGGER note_addendum_no_delete BEFORE DELETE ON note_addendum
BEGIN SELECT RAISE(ABORT, 'addenda are never deleted'); END;
CREATE TRIGGER note_addendum_signed BEFORE INSERT ON note_addendum
WHEN (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'addenda are for signed notes: edit the draft'); END;

CREATE TABLE note_cosignature (
    note_id BLOB PRIMARY KEY NOT NULL REFERENCES note(id),
    cosigned_by BLOB NOT NULL REFERENCES staff_user(id),
    cosigned_at TEXT NOT NULL
);
CREATE INDEX note_cosignature_by ON note_cosignature (cosigned_by);
CREATE TRIGGER note_cosignature_no_update BEFORE UPDATE ON note_cosignature
BEGIN SELECT RAISE(ABORT, 'a co-signature is never changed'); END;
CREATE TRIGGER note_cosignature_no_delete BEFORE DELETE ON note_cosignature
BEGIN SELECT RAISE(ABORT, 'a co-signature is never deleted'); END;
CREATE TRIGGER note_cosignature_signed BEFORE INSERT ON note_cosignature
WHEN (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL
    OR (SELECT cosigner_id FROM note WHERE id = NEW.note_id) IS NOT NEW.cosigned_by
BEGIN SELECT RAISE(ABORT, 'only the supervisor named on a signed note co-signs it'); END;

CREATE TABLE note_commitment (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES note(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    course_id BLOB REFERENCES course(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    follow_up TEXT NOT NULL,
    made_at TEXT NOT NULL
);
CREATE INDEX note_commitment_patient ON note_commitment (patient_id, made_at);
CREATE INDEX note_commitment_note ON note_commitment (note_id, position);
CREATE TRIGGER note_commitment_no_update BEFORE UPDATE ON note_commitment
BEGIN SELECT RAISE(ABORT, 'a commitment is never changed: review it'); END;
CREATE TRIGGER note_commitment_no_delete BEFORE DELETE ON note_commitment
BEGIN SELECT RAISE(ABORT, 'a commitment is never deleted: review it as dropped'); END;
CREATE TRIGGER note_commitment_signed BEFORE INSERT ON note_commitment
WHEN (SELECT signed_at FROM note WHERE id = NEW.note_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'commitments come from signed integration notes'); END;

CREATE TABLE commitment_review (
    id BLOB PRIMARY KEY NOT NULL,
    commitment_id BLOB NOT NULL REFERENCES note_commitment(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    reviewed_by BLOB NOT NULL REFERENCES staff_user(id),
    reviewed_at TEXT NOT NULL,
    during_note_id BLOB REFERENCES note(id)
);
CREATE INDEX commitment_review_commitment ON commitment_review (commitment_id, reviewed_at);
CREATE TRIGGER commitment_review_no_update BEFORE UPDATE ON commitment_review
BEGIN SELECT RAISE(ABORT, 'reviews are never changed: review again'); END;
CREATE TRIGGER commitment_review_no_delete BEFORE DELETE ON commitment_review
BEGIN SELECT RAISE(ABORT, 'reviews are never deleted'); END;

CREATE TABLE psychotherapy_note (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    kind TEXT NOT NULL CHECK (kind = 'psychotherapy'),
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    appointment_id BLOB REFERENCES appointment(id),
    dosing_session_id BLOB REFERENCES dosing_session(id),
    course_id BLOB REFERENCES course(id),
    template_version INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    signed_at TEXT,
    content_hash TEXT,
    cosigner_id BLOB REFERENCES staff_user(id),
    discarded_at TEXT
);
CREATE INDEX psychotherapy_note_patient ON psychotherapy_note (patient_id, created_at);
CREATE INDEX psychotherapy_note_author ON psychotherapy_note (author_id, signed_at, created_at);
CREATE TRIGGER psychotherapy_note_no_delete BEFORE DELETE ON psychotherapy_note
BEGIN SELECT RAISE(ABORT, 'notes are never deleted: a draft is discarded, a signed note takes addenda'); END;
CREATE TRIGGER psychotherapy_note_signed BEFORE UPDATE ON psychotherapy_note
WHEN OLD.signed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a signed note is never changed: add an addendum'); END;
CREATE TRIGGER psychotherapy_note_discarded BEFORE UPDATE ON psychotherapy_note
WHEN OLD.discarded_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a discarded draft is never changed'); END;
CREATE TRIGGER psychotherapy_note_identity BEFORE UPDATE ON psychotherapy_note
WHEN NEW.id IS NOT OLD.id OR NEW.clinic_id IS NOT OLD.clinic_id
    OR NEW.patient_id IS NOT OLD.patient_id OR NEW.kind IS NOT OLD.kind
    OR NEW.author_id IS NOT OLD.author_id
BEGIN SELECT RAISE(ABORT, 'a note keeps its patient, kind and author'); END;

CREATE TABLE psychotherapy_note_addendum (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES psychotherapy_note(id),
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    written_at TEXT NOT NULL
);
CREATE INDEX psychotherapy_note_addendum_note ON psychotherapy_note_addendum (note_id, written_at);
CREATE TRIGGER psychotherapy_note_addendum_no_update BEFORE UPDATE ON psychotherapy_note_addendum
BEGIN SELECT RAISE(ABORT, 'addenda are never changed: add another addendum'); END;
CREATE TRIGGER psychotherapy_note_addendum_no_delete BEFORE DELETE ON psychotherapy_note_addendum
BEGIN SELECT RAISE(ABORT, 'addenda are never deleted'); END;
CREATE TRIGGER psychotherapy_note_addendum_signed BEFORE INSERT ON psychotherapy_note_addendum
WHEN (SELECT signed_at FROM psychotherapy_note WHERE id = NEW.note_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'addenda are for signed notes: edit the draft'); END;

CREATE TABLE psychotherapy_note_share (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES psychotherapy_note(id),
    grantee_id BLOB NOT NULL REFERENCES staff_user(id),
    granted BOOLEAN NOT NULL,
    by_staff BLOB NOT NULL REFERENCES staff_user(id),
    at TEXT NOT NULL
);
CREATE INDEX psychotherapy_note_share_note ON psychotherapy_note_share (note_id, grantee_id, at);
CREATE INDEX psychotherapy_note_share_grantee ON psychotherapy_note_share (grantee_id);
CREATE TRIGGER psychotherapy_note_share_no_update BEFORE UPDATE ON psychotherapy_note_share
BEGIN SELECT RAISE(ABORT, 'shares are never changed: grant or revoke again'); END;
CREATE TRIGGER psychotherapy_note_share_no_delete BEFORE DELETE ON psychotherapy_note_share
BEGIN SELECT RAISE(ABORT, 'shares are never deleted: revoke instead'); END;
