//! The audit trail: what an audit row says (who, what, which record, from where), its canonical
//! form, and its tamper evidence — the keyed hash chain over all rows ([`chain`]) and signed
//! checkpoints of the chain's head kept outside the database ([`checkpoint`]); design §6,
//! rust-stack B.18, `docs/security.md`.

mod chain;
mod checkpoint;

pub use chain::{AuditKey, ChainBreak, ChainVerifier, GENESIS, chain_hash};
pub use checkpoint::{Checkpoint, CheckpointError};

use chrono::{DateTime, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// What happened, in words an auditor reads.
    pub enum AuditAction as "audit action" {
        LoginSucceeded = "login.success" / "Logged in",
        LoginFailed = "login.failure" / "Failed login",
        Logout = "logout" / "Logged out",
        InquirySubmitted = "inquiry.submit" / "Inquiry submitted",
        InquiryListed = "inquiry.list" / "Inquiries listed",
        InquiryRead = "inquiry.read" / "Inquiry read",
        InquiryUpdated = "inquiry.update" / "Inquiry updated",
        InquiryConverted = "inquiry.convert" / "Inquiry converted",
        PatientSearched = "patient.search" / "Patients searched",
        PatientRead = "patient.read" / "Chart read",
        PatientCreated = "patient.create" / "Patient registered",
        PatientUpdated = "patient.update" / "Patient updated",
        MeasurementRecorded = "patient.measurement" / "Weight/height recorded",
        StaffCreated = "staff.create" / "Staff account created",
        StaffUpdated = "staff.update" / "Staff account changed",
        TokenCreated = "token.create" / "API token created",
        TokenRevoked = "token.revoke" / "API token revoked",
        AuditRead = "audit.read" / "Audit log read",
        ClinicCreated = "clinic.create" / "Clinic added",
        ClinicUpdated = "clinic.update" / "Clinic settings changed",
        ResponseRecorded = "response.create" / "Questionnaire response recorded",
        ResponsesRead = "response.read" / "Questionnaire responses read",
        LinkCreated = "link.create" / "Patient link created",
        LinkOpened = "link.open" / "Patient link opened",
        AlertRaised = "alert.raise" / "Safety alert raised",
        AlertAcknowledged = "alert.acknowledge" / "Safety alert acknowledged",
        AlertsListed = "alert.list" / "Safety alerts listed",
        ScheduleChanged = "schedule.update" / "Questionnaire schedule changed",
        OutboxRead = "outbox.read" / "Outbox read",
        MessageQueued = "outbox.queue" / "Message queued",
        MessageSentByHand = "outbox.sent" / "Message marked sent by hand",
        AccessRefused = "access.refused" / "Access refused",
        PasswordChanged = "account.password" / "Own password changed",
        PasswordResetIssued = "account.reset_issued" / "Password reset link issued",
        PasswordReset = "account.reset" / "Password reset",
        TwoFactorEnabled = "account.2fa_on" / "Two-factor sign-in turned on",
        TwoFactorDisabled = "account.2fa_off" / "Two-factor sign-in turned off",
        RecoveryCodeUsed = "login.recovery" / "Signed in with a recovery code",
        ScreeningStarted = "screening.start" / "Screening started",
        ScreeningRead = "screening.read" / "Screening read",
        ScreeningUpdated = "screening.update" / "Screening intake changed",
        EligibilitySigned = "screening.sign" / "Eligibility decision signed",
        ScreeningAddendum = "screening.addendum" / "Screening addendum written",
        ScreeningProtocolChanged = "screening.protocol" / "Screening protocol changed",
        ConsentDocumentPublished = "consent.publish" / "Consent document version published",
        ConsentLinkCreated = "consent.link" / "Consent link created",
        ConsentLinkOpened = "consent.open" / "Consent link opened",
        ConsentSigned = "consent.sign" / "Consent signed",
        ConsentWithdrawn = "consent.withdraw" / "Consent withdrawal recorded",
        ConsentsRead = "consent.read" / "Consents read",
        RemsRecorded = "consent.rems" / "REMS enrolment recorded",
        ProtocolUploaded = "protocol.upload" / "Protocol version uploaded",
        ProtocolRetired = "protocol.retire" / "Protocol retired",
        RoomChanged = "room.update" / "Room or chair changed",
        CoursePlanned = "course.plan" / "Treatment course planned",
        CourseRead = "course.read" / "Treatment course read",
        CourseStatusChanged = "course.status" / "Treatment course status changed",
        CalendarRead = "calendar.read" / "Calendar read",
        AppointmentBooked = "appointment.book" / "Appointment booked",
        AppointmentChanged = "appointment.update" / "Appointment changed",
        CalendarFeedIssued = "calendar.feed" / "Calendar feed address issued",
        DosingOpened = "dosing.open" / "Dosing session opened",
        DosingRead = "dosing.read" / "Dosing session read",
        DosingRecorded = "dosing.record" / "Dosing session entry recorded",
        DoseOrdered = "dosing.order" / "Dose ordered",
        DosingHoldDecided = "dosing.hold" / "Pre-dose hold decided",
        DosingDischarged = "dosing.discharge" / "Patient discharged from a dosing session",
        DosingSigned = "dosing.sign" / "Dosing session co-signed",
        DosingAddendum = "dosing.addendum" / "Dosing session addendum written",
        RemsFormSubmitted = "dosing.rems" / "REMS monitoring form submitted",
        NotesListed = "note.list" / "Notes listed",
        NoteRead = "note.read" / "Note read",
        NoteDrafted = "note.draft" / "Note draft saved",
        NoteSigned = "note.sign" / "Note signed",
        NoteCoSigned = "note.cosign" / "Note co-signed",
        NoteAddendum = "note.addendum" / "Note addendum written",
        NoteShared = "note.share" / "Psychotherapy note shared or unshared",
        NoteDiscarded = "note.discard" / "Note draft discarded",
        CommitmentReviewed = "note.commitment" / "Commitment reviewed",
        NoteTemplateChanged = "note.template" / "Note template changed",
        CheckinLinkCreated = "checkin.link" / "Check-in link created",
        CheckinOpened = "checkin.open" / "Check-in link opened",
        CheckinSubmitted = "checkin.submit" / "Check-in submitted",
        CheckinsRead = "checkin.read" / "Check-ins read",
        CheckinSeen = "checkin.seen" / "Check-in reviewed",
        CheckinScheduleChanged = "checkin.schedule" / "Check-in schedule changed",
        TeamThreadRead = "team.read" / "Care-team thread read",
        TeamPosted = "team.post" / "Care-team message or task posted",
        TeamTaskChanged = "team.task" / "Care-team task changed",
        TeamSeen = "team.seen" / "Care-team thread marked seen",
    }
}

impl AuditAction {
    /// Whether rows of this action are about questionnaire answers or safety alerts: their
    /// detail is shown only to roles that may read answers (design §2: administrators and
    /// coordinators see that something was done, never what was answered). Details never carry
    /// answers, scores, severities or flags in the first place; this is the second wall.
    pub fn about_clinical_content(self) -> bool {
        matches!(
            self,
            Self::ResponseRecorded
                | Self::ResponsesRead
                | Self::AlertRaised
                | Self::AlertAcknowledged
                | Self::AlertsListed
                | Self::ScreeningRead
                | Self::ScreeningUpdated
                | Self::EligibilitySigned
                | Self::ScreeningAddendum
                | Self::DosingRead
                | Self::DosingRecorded
                | Self::DoseOrdered
                | Self::DosingHoldDecided
                | Self::DosingAddendum
                | Self::NotesListed
                | Self::NoteRead
                | Self::NoteDrafted
                | Self::NoteSigned
                | Self::NoteCoSigned
                | Self::NoteAddendum
                | Self::NoteShared
                | Self::NoteDiscarded
                | Self::CommitmentReviewed
                | Self::CheckinSubmitted
                | Self::CheckinsRead
                | Self::CheckinSeen
                | Self::TeamThreadRead
                | Self::TeamPosted
        )
    }

    /// The detail of a row of this action as a viewer with `role` may see it.
    pub fn detail_for(self, role: crate::Role, detail: &str) -> Option<&str> {
        let may = !self.about_clinical_content()
            || crate::permission::allows(role, crate::Action::ReadResponses);
        may.then_some(detail)
    }
}

crate::code::coded_enum! {
    /// How an actor reached Kapstone.
    pub enum ActorKind as "actor kind" {
        /// A staff member in a browser session.
        Staff = "staff" / "Staff",
        /// A staff member's API token.
        Api = "api" / "API",
        /// Someone without an account: the public contact form, a patient link.
        Visitor = "visitor" / "Visitor",
        /// The command line or the background worker.
        System = "system" / "System",
    }
}

crate::code::coded_enum! {
    /// The kind of record an audit row is about.
    pub enum RecordKind as "record kind" {
        Patient = "patient" / "Patient",
        Inquiry = "inquiry" / "Inquiry",
        Staff = "staff" / "Staff member",
        ApiToken = "api_token" / "API token",
        Clinic = "clinic" / "Clinic",
        Alert = "alert" / "Safety alert",
        DosingSession = "dosing_session" / "Dosing session",
        Note = "note" / "Note",
        Checkin = "checkin" / "Check-in",
        TeamItem = "team_item" / "Care-team message or task",
    }
}

/// Who is acting, and from where: the first half of every audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: Option<Uuid>,
    pub kind: ActorKind,
    /// The clinic the actor works in (none for installation-wide actions).
    pub clinic_id: Option<Uuid>,
    pub address: Option<String>,
}

impl Actor {
    /// The command line, acting for the installation.
    pub fn system() -> Self {
        Self {
            staff_id: None,
            kind: ActorKind::System,
            clinic_id: None,
            address: None,
        }
    }

    /// Someone without an account, at one clinic's public pages.
    pub fn visitor(clinic_id: Uuid, address: Option<String>) -> Self {
        Self {
            staff_id: None,
            kind: ActorKind::Visitor,
            clinic_id: Some(clinic_id),
            address,
        }
    }

    /// A staff member acting in a clinic, by session or token.
    pub fn staff(
        staff_id: Uuid,
        kind: ActorKind,
        clinic_id: Uuid,
        address: Option<String>,
    ) -> Self {
        Self {
            staff_id: Some(staff_id),
            kind,
            clinic_id: Some(clinic_id),
            address,
        }
    }
}

/// What an audit row is about: the second half of every audit row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub record_kind: Option<RecordKind>,
    pub record_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub detail: String,
}

impl Subject {
    pub fn patient(id: Uuid) -> Self {
        Self {
            record_kind: Some(RecordKind::Patient),
            record_id: Some(id),
            patient_id: Some(id),
            detail: String::new(),
        }
    }

    pub fn record(kind: RecordKind, id: Uuid) -> Self {
        Self {
            record_kind: Some(kind),
            record_id: Some(id),
            ..Self::default()
        }
    }

    pub fn none() -> Self {
        Self::default()
    }

    pub fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    pub fn with_patient(mut self, p: Option<Uuid>) -> Self {
        self.patient_id = p;
        self
    }
}

/// One audit row as stored, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The staff member, if any (anonymous visitors and the system have none).
    pub actor_id: Option<Uuid>,
    /// How the actor acted ([`ActorKind`]'s code); kept as stored so that verification hashes
    /// exactly what is in the database.
    pub actor_kind: String,
    pub action: String,
    pub record_kind: Option<String>,
    pub record_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
    pub address: Option<String>,
    pub detail: String,
}

/// Times in the chain are kept to the microsecond: PostgreSQL stores no finer.
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl AuditEntry {
    /// The row that records `action` by `actor` on `subject`, as number `seq` of the chain.
    pub fn new(
        seq: i64,
        id: Uuid,
        at: DateTime<Utc>,
        actor: &Actor,
        action: AuditAction,
        subject: Subject,
    ) -> Self {
        AuditEntry {
            seq,
            id,
            at,
            actor_id: actor.staff_id,
            actor_kind: actor.kind.as_str().to_owned(),
            action: action.as_str().to_owned(),
            record_kind: subject.record_kind.map(|k| k.as_str().to_owned()),
            record_id: subject.record_id,
            patient_id: subject.patient_id,
            clinic_id: actor.clinic_id,
            address: actor.address.clone(),
            detail: subject.detail,
        }
    }

    /// Unambiguous bytes for hashing: each field length-prefixed, absent fields marked.
    pub fn canonical(&self) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, v: Option<&str>) {
            match v {
                Some(s) => {
                    out.extend_from_slice(s.len().to_string().as_bytes());
                    out.push(b':');
                    out.extend_from_slice(s.as_bytes());
                }
                None => out.push(b'-'),
            }
            out.push(b'|');
        }
        let mut out = Vec::with_capacity(256);
        let u = |x: &Option<Uuid>| x.map(|u| u.to_string());
        put(&mut out, Some(&self.seq.to_string()));
        put(&mut out, Some(&self.id.to_string()));
        put(&mut out, Some(&canonical_time(self.at)));
        put(&mut out, u(&self.actor_id).as_deref());
        put(&mut out, Some(&self.actor_kind));
        put(&mut out, Some(&self.action));
        put(&mut out, self.record_kind.as_deref());
        put(&mut out, u(&self.record_id).as_deref());
        put(&mut out, u(&self.patient_id).as_deref());
        put(&mut out, u(&self.clinic_id).as_deref());
        put(&mut out, self.address.as_deref());
        put(&mut out, Some(&self.detail));
        out
    }
}
