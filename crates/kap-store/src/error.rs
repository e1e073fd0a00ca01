//! The store's one error type. A conflict says which rule refused the change, as a value: the
//! web crate chooses the words people see.

use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record — or one in a clinic the caller does not belong to (indistinguishable).
    #[error("not found")]
    NotFound,
    /// A rule of the workflow refuses the change.
    #[error("refused: {0}")]
    Conflict(#[from] Conflict),
    /// A stored value that cannot be read as what it must be: the row was changed outside
    /// Kapstone, or a migration is missing. Never replaced by a default.
    #[error("stored {record} {id}: {field} cannot be read ({problem})")]
    Corrupt {
        record: &'static str,
        id: String,
        field: &'static str,
        problem: String,
    },
    /// A write that would have left no audit row (a programming error, refused).
    #[error("refused a write with no audit row: every change of clinical data must be audited")]
    Unaudited,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The batch of audit rows a read was waiting for could not be made durable: the read
    /// fails, and nothing it read is shown.
    #[error("audit trail could not be written: {0}")]
    AuditWriter(String),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://… or postgres://…): {0}")]
    BadUrl(String),
    /// An operation one backend does not offer (e.g. `VACUUM INTO` on PostgreSQL).
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Which rule refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("a clinic with the short name \"{0}\" already exists")]
    ClinicSlugTaken(String),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Staff(#[from] kap_domain::staff::StaffRuleBroken),
    #[error(transparent)]
    InquiryStatus(#[from] kap_domain::inquiry::TransitionRefused),
    #[error("this inquiry has already been converted into a patient")]
    InquiryAlreadyConverted,
    #[error("this link has already been used or has expired")]
    LinkSpent,
    #[error("this alert has already been acknowledged")]
    AlertAlreadyAcknowledged,
    #[error("this message is not one to send by hand, or was sent already")]
    MessageNotManual,
    /// A clinic administrator may not reset the password of someone who also works in
    /// another clinic.
    #[error("this person also works in another clinic")]
    WorksElsewhere,
    /// A signed screening is locked: corrections are addenda.
    #[error("this screening was signed; corrections are addenda")]
    ScreeningLocked,
    /// Addenda are for signed screenings; an open one is simply edited.
    #[error("this screening is not signed yet")]
    ScreeningNotSigned,
    /// The decision does not follow the clinic's rules for this intake.
    #[error("the decision cannot be signed: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    DecisionRefused(Vec<kap_domain::screening::decision::Refused>),
    /// A screening protocol that would mislead (a rule without its source, …).
    #[error("the screening protocol is not valid: {0}")]
    ProtocolInvalid(String),
    /// The clinic has no consent document for this route yet.
    #[error("there is no consent document for {} yet", .0.label())]
    NoConsentDocument(kap_domain::screening::Route),
    /// A newer version of the consent document was published; only the current one is signed.
    #[error("a newer version of this consent document has been published")]
    ConsentDocumentOutdated,
    /// This consent's withdrawal is already on record.
    #[error("this consent was withdrawn already")]
    ConsentWithdrawn,
    /// A consent signature (or withdrawal) that does not hold (name, date or confirmation).
    #[error("the signature cannot be accepted: {0}")]
    SignatureInvalid(kap_domain::FieldErrors),
    /// The patient already has an active schedule for this questionnaire.
    #[error("an active {0} schedule already exists for this patient")]
    ScheduleExists(&'static str),
    /// An uploaded protocol file that does not validate (every problem listed).
    #[error("the protocol file is not valid:\n{0}")]
    ProtocolFile(kap_domain::protocol::ProtocolErrors),
    /// A protocol upload whose version is not above the clinic's latest of that protocol.
    #[error("version {given} of {key} is not newer than the clinic's version {latest}")]
    ProtocolVersionNotNewer {
        key: String,
        given: u32,
        latest: u32,
    },
    /// The protocol was retired: no new courses or versions.
    #[error("this protocol has been retired")]
    ProtocolRetired,
    /// A course is planned on the newest version of a protocol only.
    #[error("a newer version of this protocol exists; plan the course on it")]
    ProtocolNotLatest,
    /// The patient has no signed decision that allows a course on this route.
    #[error("{0}")]
    NotEligible(String),
    /// The protocol's contraindication rules apply to this patient.
    #[error("this protocol's contraindication rules apply: {}", .0.join("; "))]
    Contraindicated(Vec<String>),
    /// Sessions would clash with bookings already made (every clash listed).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Clashes(Vec<kap_domain::course::appointment::Clash>),
    /// A booking whose parts do not hold (a chair that is not one, a past time, …).
    #[error("the booking cannot be made: {0}")]
    BookingInvalid(kap_domain::FieldErrors),
    /// A course or appointment that cannot take this step now.
    #[error("{0}")]
    NotNow(String),
    /// A dosing session entry whose fields do not hold (every problem listed).
    #[error("the entry was not saved: {0}")]
    DosingInvalid(kap_domain::FieldErrors),
    /// A co-signed dosing session takes addenda only.
    #[error("the session is signed: add an addendum")]
    SessionLocked,
    /// Two rooms of one clinic with one name.
    #[error("the clinic already has a room called \"{0}\"")]
    RoomNameTaken(String),
    /// A note, template or notes setting the notes rules refuse (who may sign, a signed note's
    /// lock, what was typed…).
    #[error(transparent)]
    Note(#[from] kap_domain::notes::NoteRefused),
    /// A care-team message or task whose fields do not hold (every problem listed).
    #[error("not posted: {0}")]
    TeamInvalid(kap_domain::FieldErrors),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Reads one stored field into its domain type, or says which field of which row is unreadable.
pub(crate) fn field<T, E: std::fmt::Display>(
    record: &'static str,
    id: Uuid,
    field: &'static str,
    parsed: std::result::Result<T, E>,
) -> Result<T> {
    parsed.map_err(|e| StoreError::Corrupt {
        record,
        id: id.to_string(),
        field,
        problem: e.to_string(),
    })
}

/// Like [`field`] for an optional column: `None` stays `None`.
pub(crate) fn opt_field<T, E: std::fmt::Display>(
    record: &'static str,
    id: Uuid,
    name: &'static str,
    stored: Option<&str>,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
) -> Result<Option<T>> {
    stored
        .map(|s| field(record, id, name, parse(s)))
        .transpose()
}

/// A stored code read as its enum.
pub(crate) fn code<T: std::str::FromStr>(
    record: &'static str,
    id: Uuid,
    name: &'static str,
    stored: &str,
) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    field(record, id, name, stored.parse::<T>())
}

/// A stored instrument code read as its definition.
pub(crate) fn instrument(
    record: &'static str,
    id: Uuid,
    stored: &str,
) -> Result<&'static kap_domain::instruments::Instrument> {
    field(
        record,
        id,
        "instrument",
        kap_domain::instruments::by_code(stored).ok_or("no such instrument"),
    )
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
