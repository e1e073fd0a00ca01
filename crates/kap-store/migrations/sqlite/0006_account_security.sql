-- Account security: two-factor sign-in (a sealed TOTP secret, the last time step used so a code
-- works once, single-use recovery codes kept as hashes), the half-way state between password
-- and code, one-time password reset links, and a clinic's rule that all its staff use two
-- factors.

ALTER TABLE staff_user ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_user ADD COLUMN totp_pending TEXT;
ALTER TABLE staff_user ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE staff_user ADD COLUMN totp_last_step BIGINT;

CREATE TABLE staff_recovery_code (
    id BLOB PRIMARY KEY NOT NULL,
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX staff_recovery_code_staff ON staff_recovery_code (staff_id, code_hash);

-- A password was right and a code is still due: the browser holds the token, this its hash.
CREATE TABLE login_challenge (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    clinic_id BLOB NOT NULL REFERENCES clinic(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE password_reset (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id BLOB NOT NULL REFERENCES staff_user(id),
    issued_by BLOB REFERENCES staff_user(id),
    clinic_id BLOB REFERENCES clinic(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX password_reset_staff ON password_reset (staff_id);

ALTER TABLE clinic ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
