-- Security hardening: access is ended per clinic (a membership can be deactivated without
-- touching the person's other clinics); a pending message's link is kept sealed, never in its
-- text; the clinic-scoped audit log reads by its own index.

ALTER TABLE staff_membership ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE outbox ADD COLUMN sealed_token TEXT;

CREATE INDEX audit_event_clinic ON audit_event (clinic_id, seq);
