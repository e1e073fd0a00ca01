-- The screening's psychiatric history beyond the checklist: diagnoses as ICD-10-CM codes with
-- their descriptions, psychiatric hospitalisations, suicide attempts and the year of the most
-- recent one, allergies and substance use (an empty text is "none"; NULL is "not asked yet").

ALTER TABLE screening ADD COLUMN hospitalisations INTEGER;
ALTER TABLE screening ADD COLUMN suicide_attempts INTEGER;
ALTER TABLE screening ADD COLUMN last_attempt_year INTEGER;
ALTER TABLE screening ADD COLUMN allergies TEXT;
ALTER TABLE screening ADD COLUMN substance_use TEXT;

CREATE TABLE screening_diagnosis (
    screening_id UUID NOT NULL REFERENCES screening(id),
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (screening_id, code)
);
