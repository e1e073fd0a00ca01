//! Who may do what: the one role × action table every handler asks (design §2).
//!
//! Clinic scoping is a separate, second check: a role only applies inside a clinic the staff member
//! belongs to, and the store filters every patient query by the caller's clinics.

crate::code::coded_enum! {
    /// A staff member's role within one clinic. Patients have no role: they reach the app only
    /// through single-use links.
    pub enum Role as "role" {
        Admin = "admin" / "Administrator",
        Prescriber = "prescriber" / "Prescriber",
        Nurse = "nurse" / "Nurse",
        Therapist = "therapist" / "Therapist",
        Coordinator = "coordinator" / "Coordinator",
    }
}

/// Everything a staff member can ask to do. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The staff home page (today's overview).
    ViewHome,
    /// List and open inquiries from the public contact form.
    ReadInquiry,
    /// Change an inquiry's status or add a note.
    UpdateInquiry,
    /// Turn an inquiry into a registered patient.
    ConvertInquiry,
    /// Search and list patients.
    SearchPatients,
    /// Open a patient's chart.
    ReadPatient,
    /// Register a new patient.
    CreatePatient,
    /// Edit demographics and contacts.
    UpdatePatient,
    /// Record weight and height.
    RecordBodyMeasurement,
    /// Create, change the role of, and deactivate staff accounts.
    ManageStaff,
    /// Read the audit trail.
    ReadAudit,
    /// Create and revoke API tokens.
    ManageApiTokens,
    /// Clinic settings (name, crisis resources shown to patients, measurement protocol).
    ManageClinic,
    /// Send a questionnaire link, set questionnaire schedules, see which questionnaires are
    /// done or overdue (not their answers).
    SendQuestionnaire,
    /// Enter a questionnaire response for a patient, including clinician-rated scales.
    EnterResponse,
    /// Read answers, totals, bands and trajectories.
    ReadResponses,
    /// See safety alerts and acknowledge them with an action note.
    HandleAlerts,
    /// The outbox of messages to patients (links to copy when email is not configured).
    ReadOutbox,
    /// Mark a message sent by hand (copied and sent outside Kapstone).
    WorkOutbox,
    /// Read a patient's screening: history, findings, treatment resistance, decision.
    ReadScreening,
    /// Start a screening and enter its intake (checklist, medications, trials, vitals).
    EditScreening,
    /// Sign the eligibility decision (which locks the screening) and write addenda.
    SignEligibility,
    /// See which consent documents a patient signed (version, date, how) and the REMS
    /// enrolment.
    ReadConsent,
    /// Send a patient a consent link.
    SendConsent,
    /// Record a consent signed in clinic (as its witness) and the REMS enrolment.
    RecordConsent,
    /// Publish new versions of the clinic's consent documents.
    ManageConsentDocuments,
    /// Read the clinic's treatment protocols (every version).
    ReadProtocols,
    /// Add, upload new versions of and retire the clinic's protocols.
    ManageProtocols,
    /// The clinic's rooms and dosing chairs.
    ManageRooms,
    /// See a patient's treatment courses and their summary.
    ReadCourse,
    /// Plan a course from a protocol for an eligible patient, and pause, resume, complete or
    /// stop it.
    PlanCourse,
    /// The calendar: everyone's appointments, by day and week.
    ReadCalendar,
    /// Book, reschedule, cancel, check in and mark missed or done an appointment.
    BookAppointments,
    /// Read dosing sessions: the flowsheet, administrations, the session record.
    ReadDosing,
    /// Work a dosing session at the chair: open it, the pre-dose checklist, vitals, ratings,
    /// observations, adverse events, administrations, discharge, REMS answers, addenda.
    RecordDosing,
    /// Order a dose or booster, decide on a pre-dose hold, co-sign the session.
    OrderDose,
    /// Read a patient's clinical notes (preparation, in-session, integration, progress) with
    /// their addenda, and the intentions and commitments they carry. Psychotherapy notes are
    /// never reached by role: only their author and the clinicians they were shared with.
    ReadNotes,
    /// Write, sign and co-sign clinical notes and their addenda.
    WriteNotes,
    /// Write psychotherapy notes (kept apart from the record) and share them with named
    /// clinicians.
    WritePsychotherapyNotes,
    /// The clinic's note templates.
    ManageNoteTemplates,
    /// Send a patient a check-in link and set check-in schedules (not read the answers).
    SendCheckin,
    /// Read patients' check-ins between sessions.
    ReadCheckins,
    /// Review a check-in and mark it seen.
    ReviewCheckins,
    /// Read a patient's care-team thread: clinicians all of it, coordinators its tasks only.
    ReadTeamThread,
    /// Post to the care-team thread (messages with mentions, tasks) and mark it seen.
    PostTeamThread,
}

impl Action {
    pub const ALL: [Action; 45] = [
        Action::ViewHome,
        Action::ReadInquiry,
        Action::UpdateInquiry,
        Action::ConvertInquiry,
        Action::SearchPatients,
        Action::ReadPatient,
        Action::CreatePatient,
        Action::UpdatePatient,
        Action::RecordBodyMeasurement,
        Action::ManageStaff,
        Action::ReadAudit,
        Action::ManageApiTokens,
        Action::ManageClinic,
        Action::SendQuestionnaire,
        Action::EnterResponse,
        Action::ReadResponses,
        Action::HandleAlerts,
        Action::ReadOutbox,
        Action::WorkOutbox,
        Action::ReadScreening,
        Action::EditScreening,
        Action::SignEligibility,
        Action::ReadConsent,
        Action::SendConsent,
        Action::RecordConsent,
        Action::ManageConsentDocuments,
        Action::ReadProtocols,
        Action::ManageProtocols,
        Action::ManageRooms,
        Action::ReadCourse,
        Action::PlanCourse,
        Action::ReadCalendar,
        Action::BookAppointments,
        Action::ReadDosing,
        Action::RecordDosing,
        Action::OrderDose,
        Action::ReadNotes,
        Action::WriteNotes,
        Action::WritePsychotherapyNotes,
        Action::ManageNoteTemplates,
        Action::SendCheckin,
        Action::ReadCheckins,
        Action::ReviewCheckins,
        Action::ReadTeamThread,
        Action::PostTeamThread,
    ];
}

use Role::{Admin as A, Coordinator as C, Nurse as N, Prescriber as P, Therapist as T};

/// The table. Inquiries are the coordinators' work (admins oversee it); clinicians work from the
/// patient chart; only nurses and prescribers record body measurements (they drive dosing); only
/// admins manage accounts and read the audit trail.
const TABLE: &[(Action, &[Role])] = &[
    (Action::ViewHome, &[A, P, N, T, C]),
    (Action::ReadInquiry, &[A, C]),
    (Action::UpdateInquiry, &[A, C]),
    (Action::ConvertInquiry, &[A, C]),
    (Action::SearchPatients, &[A, P, N, T, C]),
    (Action::ReadPatient, &[A, P, N, T, C]),
    (Action::CreatePatient, &[A, P, C]),
    (Action::UpdatePatient, &[A, P, N, C]),
    (Action::RecordBodyMeasurement, &[P, N]),
    (Action::ManageStaff, &[A]),
    (Action::ReadAudit, &[A]),
    (Action::ManageApiTokens, &[A]),
    (Action::ManageClinic, &[A]),
    // Measurement-based care. Coordinators send links and chase overdue questionnaires but do
    // not read answers: questionnaire answers are clinical content. Safety alerts go to the
    // clinicians who can act on them.
    (Action::SendQuestionnaire, &[A, P, N, T, C]),
    (Action::EnterResponse, &[P, N, T]),
    (Action::ReadResponses, &[P, N, T]),
    (Action::HandleAlerts, &[P, N, T]),
    (Action::ReadOutbox, &[A, C]),
    (Action::WorkOutbox, &[A, C]),
    // Screening is clinical content: clinicians read it; nurses and prescribers take the
    // intake; only a prescriber decides eligibility.
    (Action::ReadScreening, &[P, N, T]),
    (Action::EditScreening, &[P, N]),
    (Action::SignEligibility, &[P]),
    // Consent: that a patient signed (which document, which version, when) is what the whole
    // care team and the coordinator who chases it need; it holds no clinical answers.
    // Coordinators send consent links; a consent signed in clinic needs a clinician as its
    // witness; administrators publish the documents' texts.
    (Action::ReadConsent, &[P, N, T, C]),
    (Action::SendConsent, &[P, N, C]),
    (Action::RecordConsent, &[P, N]),
    (Action::ManageConsentDocuments, &[A]),
    // Protocols are the clinic's rules, read by everyone who plans or gives treatment and
    // written by administrators. A course (which sessions, when, what dose) is planned by a
    // prescriber; the whole care team and the coordinator see it. The calendar holds names and
    // times, not clinical content: coordinators run it with the care team.
    (Action::ReadProtocols, &[A, P, N, T]),
    (Action::ManageProtocols, &[A]),
    (Action::ManageRooms, &[A]),
    (Action::ReadCourse, &[P, N, T, C]),
    (Action::PlanCourse, &[P]),
    (Action::ReadCalendar, &[A, P, N, T, C]),
    (Action::BookAppointments, &[P, N, T, C]),
    // A dosing session is run by the nurse at the chair under a prescriber, who orders the
    // dose, decides on a hold and co-signs; the therapist present reads the flowsheet. The
    // coordinator sees the session's stage on the today board, never its values.
    (Action::ReadDosing, &[P, N, T]),
    (Action::RecordDosing, &[P, N]),
    (Action::OrderDose, &[P]),
    // Therapy notes are clinical content for the care team; coordinators never read them.
    // Psychotherapy notes (process notes kept apart from the record) are written by the
    // clinicians who do psychotherapy, and read only by their author and explicit grantees —
    // a rule of the notes domain, not of this table. Templates are clinic settings.
    (Action::ReadNotes, &[P, N, T]),
    (Action::WriteNotes, &[P, N, T]),
    (Action::WritePsychotherapyNotes, &[P, T]),
    (Action::ManageNoteTemplates, &[A]),
    // Check-ins between sessions: like questionnaires, coordinators send the links but do not
    // read the answers; clinicians read them and mark each one seen.
    (Action::SendCheckin, &[P, N, T, C]),
    (Action::ReadCheckins, &[P, N, T]),
    (Action::ReviewCheckins, &[P, N, T]),
    // The care-team thread: clinicians read and write it all; coordinators take part in its
    // tasks (scheduling, calls) and never see its clinical messages.
    (Action::ReadTeamThread, &[P, N, T, C]),
    (Action::PostTeamThread, &[P, N, T, C]),
];

/// Whether `role` may perform `action`. Anything not in the table is denied.
pub fn allows(role: Role, action: Action) -> bool {
    TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// Whether any of a staff member's roles allows the action.
pub fn any_allows(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| allows(*r, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_row() {
        for a in Action::ALL {
            assert_eq!(
                TABLE.iter().filter(|(x, _)| *x == a).count(),
                1,
                "{a:?} must appear exactly once"
            );
        }
    }

    #[test]
    fn therapist_cannot_read_audit_log() {
        assert!(!allows(Role::Therapist, Action::ReadAudit));
        assert!(allows(Role::Admin, Action::ReadAudit));
    }

    #[test]
    fn coordinator_works_inquiries_but_records_no_vitals() {
        assert!(allows(Role::Coordinator, Action::ConvertInquiry));
        assert!(!allows(Role::Coordinator, Action::RecordBodyMeasurement));
    }

    #[test]
    fn clinicians_do_not_see_the_inquiry_inbox() {
        for r in [Role::Prescriber, Role::Nurse, Role::Therapist] {
            assert!(!allows(r, Action::ReadInquiry));
        }
    }

    #[test]
    fn coordinator_sends_links_but_reads_no_answers() {
        assert!(allows(Role::Coordinator, Action::SendQuestionnaire));
        assert!(!allows(Role::Coordinator, Action::ReadResponses));
        assert!(!allows(Role::Coordinator, Action::HandleAlerts));
    }

    #[test]
    fn only_admins_manage_staff() {
        for r in Role::ALL {
            assert_eq!(allows(r, Action::ManageStaff), r == Role::Admin);
        }
    }

    #[test]
    fn administrators_write_consent_texts_but_never_see_who_signed() {
        assert!(allows(Role::Admin, Action::ManageConsentDocuments));
        assert!(!allows(Role::Admin, Action::ReadConsent));
        assert!(allows(Role::Coordinator, Action::SendConsent));
        assert!(!allows(Role::Coordinator, Action::RecordConsent));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("doctor".parse::<Role>().is_err());
    }
}
