-- Clinic settings as a versioned document: each save adds a version and none is changed, so
-- what a clinic's rules were at any moment can be read back. Replaces clinic_protocol (its rows
-- become version 1).

CREATE TABLE clinic_settings (
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by UUID REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);

INSERT INTO clinic_settings (clinic_id, version, document, saved_at, saved_by)
SELECT clinic_id, 1,
       json_build_object('alert_escalation_minutes', alert_escalation_minutes,
                         'link_valid_hours', link_valid_hours,
                         'outcome_rules', outcome_rules::json)::text,
       now(), NULL
FROM clinic_protocol;

DROP TABLE clinic_protocol;

CREATE FUNCTION clinic_settings_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'clinic settings are versioned: save a new version'; END $$;
CREATE TRIGGER clinic_settings_no_change BEFORE UPDATE OR DELETE ON clinic_settings
FOR EACH ROW EXECUTE FUNCTION clinic_settings_versioned();
