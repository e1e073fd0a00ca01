-- The care-team thread (issue 12, item 5): per patient, messages with their mentions, tasks with
-- their history, and each staff member's seen mark. Messages and mentions are never changed or
-- deleted (a correction is a new message); a task's title, detail, creator and due date never
-- change and its status moves once, from open to done or cancelled, each change kept as an
-- event; nothing of it is deleted. A seen mark only moves forward.

-- One row per patient with a thread: the position of its last message (the row every post
-- locks, so two posts never take the same position).
CREATE TABLE team_thread (
    patient_id BLOB PRIMARY KEY NOT NULL REFERENCES patient(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    last_seq BIGINT NOT NULL,
    last_posted_at TEXT NOT NULL
);
CREATE TRIGGER team_thread_no_delete BEFORE DELETE ON team_thread
BEGIN SELECT RAISE(ABORT, 'care-team threads are never deleted'); END;
CREATE TRIGGER team_thread_forward BEFORE UPDATE ON team_thread
WHEN NEW.last_seq < OLD.last_seq OR NEW.patient_id IS NOT OLD.patient_id
    OR NEW.clinic_id IS NOT OLD.clinic_id
BEGIN SELECT RAISE(ABORT, 'a care-team thread only grows'); END;

CREATE TABLE team_message (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES team_thread(patient_id),
    seq BIGINT NOT NULL,
    author_id BLOB NOT NULL REFERENCES staff_user(id),
    body TEXT NOT NULL,
    ref_kind TEXT,
    ref_id BLOB,
    posted_at TEXT NOT NULL
);
CREATE UNIQUE INDEX team_message_seq ON team_message (patient_id, seq);
CREATE TRIGGER team_message_no_update BEFORE UPDATE ON team_message
BEGIN SELECT RAISE(ABORT, 'care-team messages are never changed: post a correction'); END;
CREATE TRIGGER team_message_no_delete BEFORE DELETE ON team_message
BEGIN SELECT RAISE(ABORT, 'care-team messages are never deleted'); END;

-- Who a message mentions, with the message's patient and position (for counting unread
-- mentions without reading messages) and the order the mentions were written in.
CREATE TABLE team_mention (
    message_id BLOB NOT NULL REFERENCES team_message(id),
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    seq BIGINT NOT NULL,
    ordinal INTEGER NOT NULL,
    PRIMARY KEY (message_id, staff_id)
);
CREATE INDEX team_mention_staff ON team_mention (staff_id, clinic_id, patient_id, seq);
CREATE INDEX team_mention_thread ON team_mention (patient_id, seq);
CREATE TRIGGER team_mention_no_update BEFORE UPDATE ON team_mention
BEGIN SELECT RAISE(ABORT, 'mentions are never changed'); END;
CREATE TRIGGER team_mention_no_delete BEFORE DELETE ON team_mention
BEGIN SELECT RAISE(ABORT, 'mentions are never deleted'); END;

CREATE TABLE team_task (
    id BLOB PRIMARY KEY NOT NULL,
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    assignee_id BLOB NOT NULL REFERENCES staff_user(id),
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES staff_user(id),
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX team_task_assignee ON team_task (assignee_id, clinic_id, status, due_on);
CREATE INDEX team_task_creator ON team_task (created_by, clinic_id, status, due_on);
CREATE INDEX team_task_patient ON team_task (patient_id, created_at);
CREATE TRIGGER team_task_no_delete BEFORE DELETE ON team_task
BEGIN SELECT RAISE(ABORT, 'care-team tasks are never deleted: cancel them'); END;
CREATE TRIGGER team_task_kept BEFORE UPDATE ON team_task
WHEN OLD.status <> 'open'
    OR NEW.id IS NOT OLD.id OR NEW.clinic_id IS NOT OLD.clinic_id
    OR NEW.patient_id IS NOT OLD.patient_id OR NEW.title IS NOT OLD.title
    OR NEW.detail IS NOT OLD.detail OR NEW.due_on IS NOT OLD.due_on
    OR NEW.created_by IS NOT OLD.created_by OR NEW.created_at IS NOT OLD.created_at
    OR NEW.status NOT IN ('open', 'done', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'a task changes only its status (once) and its assignee while open'); END;

CREATE TABLE team_task_event (
    id BLOB PRIMARY KEY NOT NULL,
    task_id BLOB NOT NULL REFERENCES team_task(id),
    kind TEXT NOT NULL,
    assignee_id BLOB REFERENCES staff_user(id),
    by_id BLOB NOT NULL REFERENCES staff_user(id),
    at TEXT NOT NULL
);
CREATE INDEX team_task_event_task ON team_task_event (task_id, at);
CREATE TRIGGER team_task_event_no_update BEFORE UPDATE ON team_task_event
BEGIN SELECT RAISE(ABORT, 'task history is never changed'); END;
CREATE TRIGGER team_task_event_no_delete BEFORE DELETE ON team_task_event
BEGIN SELECT RAISE(ABORT, 'task history is never deleted'); END;

-- The last message each staff member was shown, per thread.
CREATE TABLE team_seen (
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    patient_id BLOB NOT NULL REFERENCES patient(id),
    last_seq BIGINT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (staff_id, patient_id)
);
CREATE TRIGGER team_seen_forward BEFORE UPDATE ON team_seen
WHEN NEW.last_seq < OLD.last_seq OR NEW.staff_id IS NOT OLD.staff_id
    OR NEW.patient_id IS NOT OLD.patient_id
BEGIN SELECT RAISE(ABORT, 'a seen mark only moves forward'); END;
CREATE TRIGGER team_seen_no_delete BEFORE DELETE ON team_seen
BEGIN SELECT RAISE(ABORT, 'seen marks are never deleted'); END;
