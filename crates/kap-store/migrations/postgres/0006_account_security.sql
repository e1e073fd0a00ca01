-- Account security: two-factor sign-in (a sealed TOTP secret, the last time step used so a code
-- works once, single-use recovery codes kept as hashes), the half-way state between password
-- and code, one-time password reset links, and a clinic's rule that all its staff use two
-- factors.

ALTER TABLE staff_user ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_user ADD COLUMN totp_pending TEXT;
ALTER TABLE staff_user ADD COLUMN totp_enabled_at TIMESTAMPTZ;
ALTER TABLE staff_user ADD COLUMN totp_last_step BIGINT;

CREATE TABLE staff_recovery_code (
    id UUID PRIMARY KEY NOT NULL,
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    code_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX staff_recovery_code_staff ON staff_recovery_code (staff_id, code_hash);

-- A password was right and a code is still due: the browser holds the token, this its hash.
CREATE TABLE login_challenge (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    clinic_id UUID NOT NULL REFERENCES clinic(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE password_reset (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id UUID NOT NULL REFERENCES staff_user(id),
    issued_by UUID REFERENCES staff_user(id),
    clinic_id UUID REFERENCES clinic(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX password_reset_staff ON password_reset (staff_id);

ALTER TABLE clinic ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
