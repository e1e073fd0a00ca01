-- Clinic settings as a versioned document: each save adds a version and none is changed, so
-- what a clinic's rules were at any moment can be read back. Replaces clinic_protocol (its rows
-- become version 1).

CREATE TABLE clinic_settings (
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by BLOB REFERENCES staff_user(id),
    PRIMARY KEY (clinic_id, version)
);

INSERT INTO clinic_settings (clinic_id, version, document, saved_at, saved_by)
SELECT clinic_id, 1,
       json_object('alert_escalation_minutes', alert_escalation_minutes,
                   'link_valid_hours', link_valid_hours,
                   'outcome_rules', json(outcome_rules)),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL
FROM clinic_protocol;

DROP TABLE clinic_protocol;

CREATE TRIGGER clinic_settings_no_update BEFORE UPDATE ON clinic_settings
BEGIN SELECT RAISE(ABORT, 'clinic settings are versioned: save a new version'); END;
CREATE TRIGGER clinic_settings_no_delete BEFORE DELETE ON clinic_settings
BEGIN SELECT RAISE(ABORT, 'clinic settings are versioned: save a new version'); END;
