-- The care-team thread (issue 12, item 5): per patient, messages with their mentions, tasks with
-- their history, and each staff member's seen mark. Messages and mentions are never changed or
-- deleted (a correction is a new message); a task's title, detail, creator and due date never
-- change and its status moves once, from open to done or cancelled, each change kept as an
-- event; nothing of it is deleted. A seen mark only moves forward.

-- One row per patient with a thread: the position of its last message (the row every post
-- locks, so two posts never take the same position).
CREATE TABLE team_thread (
    patient_id UUID PRIMARY KEY NOT NULL REFERENCES patient(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    last_seq BIGINT NOT NULL,
    last_posted_at TIMESTAMPTZ NOT NULL
);
CREATE FUNCTION team_thread_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'care-team threads are never deleted'; END IF;
    IF NEW.last_seq < OLD.last_seq OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
        OR NEW.clinic_id IS DISTINCT FROM OLD.clinic_id THEN
        RAISE EXCEPTION 'a care-team thread only grows';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER team_thread_kept BEFORE UPDATE OR DELETE ON team_thread
FOR EACH ROW EXECUTE FUNCTION team_thread_kept();

CREATE TABLE team_message (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES team_thread(patient_id),
    seq BIGINT NOT NULL,
    author_id UUID NOT NULL REFERENCES staff_user(id),
    body TEXT NOT NULL,
    ref_kind TEXT,
    ref_id UUID,
    posted_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX team_message_seq ON team_message (patient_id, seq);
CREATE FUNCTION team_message_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'care-team messages are never changed: post a correction'; END IF;
    RAISE EXCEPTION 'care-team messages are never deleted';
END $$;
CREATE TRIGGER team_message_kept BEFORE UPDATE OR DELETE ON team_message
FOR EACH ROW EXECUTE FUNCTION team_message_kept();

-- Who a message mentions, with the message's patient and position (for counting unread
-- mentions without reading messages) and the order the mentions were written in.
CREATE TABLE team_mention (
    message_id UUID NOT NULL REFERENCES team_message(id),
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    seq BIGINT NOT NULL,
    ordinal INTEGER NOT NULL,
    PRIMARY KEY (message_id, staff_id)
);
CREATE INDEX team_mention_staff ON team_mention (staff_id, clinic_id, patient_id, seq);
CREATE INDEX team_mention_thread ON team_mention (patient_id, seq);
CREATE FUNCTION team_mention_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'mentions are never changed'; END IF;
    RAISE EXCEPTION 'mentions are never deleted';
END $$;
CREATE TRIGGER team_mention_kept BEFORE UPDATE OR DELETE ON team_mention
FOR EACH ROW EXECUTE FUNCTION team_mention_kept();

CREATE TABLE team_task (
    id UUID PRIMARY KEY NOT NULL,
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    assignee_id UUID NOT NULL REFERENCES staff_user(id),
    due_on DATE NOT NULL,
    status TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES staff_user(id),
    created_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);
CREATE INDEX team_task_assignee ON team_task (assignee_id, clinic_id, status, due_on);
CREATE INDEX team_task_creator ON team_task (created_by, clinic_id, status, due_on);
CREATE INDEX team_task_patient ON team_task (patient_id, created_at);
CREATE FUNCTION team_task_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'care-team tasks are never deleted: cancel them'; END IF;
    IF OLD.status <> 'open'
        OR NEW.id IS DISTINCT FROM OLD.id OR NEW.clinic_id IS DISTINCT FROM OLD.clinic_id
        OR NEW.patient_id IS DISTINCT FROM OLD.patient_id OR NEW.title IS DISTINCT FROM OLD.title
        OR NEW.detail IS DISTINCT FROM OLD.detail OR NEW.due_on IS DISTINCT FROM OLD.due_on
        OR NEW.created_by IS DISTINCT FROM OLD.created_by
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR NEW.status NOT IN ('open', 'done', 'cancelled') THEN
        RAISE EXCEPTION 'a task changes only its status (once) and its assignee while open';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER team_task_kept BEFORE UPDATE OR DELETE ON team_task
FOR EACH ROW EXECUTE FUNCTION team_task_kept();

CREATE TABLE team_task_event (
    id UUID PRIMARY KEY NOT NULL,
    task_id UUID NOT NULL REFERENCES team_task(id),
    kind TEXT NOT NULL,
    assignee_id UUID REFERENCES staff_user(id),
    by_id UUID NOT NULL REFERENCES staff_user(id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX team_task_event_task ON team_task_event (task_id, at);
CREATE FUNCTION team_task_event_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'task history is never changed'; END IF;
    RAISE EXCEPTION 'task history is never deleted';
END $$;
CREATE TRIGGER team_task_event_kept BEFORE UPDATE OR DELETE ON team_task_event
FOR EACH ROW EXECUTE FUNCTION team_task_event_kept();

-- The last message each staff member was shown, per thread.
CREATE TABLE team_seen (
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    patient_id UUID NOT NULL REFERENCES patient(id),
    last_seq BIGINT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (staff_id, patient_id)
);
CREATE FUNCTION team_seen_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'seen marks are never deleted'; END IF;
    IF NEW.last_seq < OLD.last_seq OR NEW.staff_id IS DISTINCT FROM OLD.staff_id
        OR NEW.patient_id IS DISTINCT FROM OLD.patient_id THEN
        RAISE EXCEPTION 'a seen mark only moves forward';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER team_seen_kept BEFORE UPDATE OR DELETE ON team_seen
FOR EACH ROW EXECUTE FUNCTION team_seen_kept();
