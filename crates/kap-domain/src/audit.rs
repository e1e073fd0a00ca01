//! The audit trail's tamper evidence: the canonical form of one audit row and the keyed hash
//! chain over all rows (design §6, rust-stack B.18).
//!
//! `hash_n = HMAC-SHA256(key, hash_{n-1} ‖ canonical(row_n))`, with the row's sequence number in
//! its canonical form, so editing, deleting or reordering a row breaks every later link. The key
//! lives outside the database: someone who can only write to the database cannot rebuild it.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The hash that the first row links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// The secret that keys the chain. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl AuditKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    /// Parses the key file's content: 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let v = hex::decode(s.trim()).ok()?;
        Some(Self(v.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

/// The hash of `entry` chained onto `prev_hash` (hex).
pub fn chain_hash(key: &AuditKey, prev_hash: &str, entry: &AuditEntry) -> String {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm cannot be taken.
        Err(_) => return String::new(),
    };
    mac.update(prev_hash.as_bytes());
    mac.update(b"|");
    mac.update(&entry.canonical());
    hex::encode(mac.finalize().into_bytes())
}

/// Why a row fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit row {seq} does not match its hash (changed after it was written)")]
    HashMismatch { seq: i64 },
    #[error("audit row {seq} does not link to the row before it (a row was removed or replaced)")]
    BadLink { seq: i64 },
    #[error("audit row {seq} follows row {prev}: rows are missing in between")]
    Gap { seq: i64, prev: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            Self::HashMismatch { seq } | Self::BadLink { seq } | Self::Gap { seq, .. } => *seq,
        }
    }
}

/// Incremental verifier: feed rows in sequence order.
pub struct ChainVerifier<'k> {
    key: &'k AuditKey,
    prev_hash: String,
    prev_seq: i64,
    pub rows: u64,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k AuditKey) -> Self {
        Self {
            key,
            prev_hash: GENESIS.to_owned(),
            prev_seq: 0,
            rows: 0,
        }
    }

    /// Checks one row, given the stored `prev_hash` and `hash` beside it.
    pub fn check(
        &mut self,
        entry: &AuditEntry,
        stored_prev: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        if entry.seq != self.prev_seq + 1 {
            return Err(ChainBreak::Gap {
                seq: entry.seq,
                prev: self.prev_seq,
            });
        }
        if stored_prev != self.prev_hash {
            return Err(ChainBreak::BadLink { seq: entry.seq });
        }
        if chain_hash(self.key, &self.prev_hash, entry) != stored_hash {
            return Err(ChainBreak::HashMismatch { seq: entry.seq });
        }
        self.prev_hash = stored_hash.to_owned();
        self.prev_seq = entry.seq;
        self.rows += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(seq: i64, detail: &str) -> AuditEntry {
        AuditEntry {
            seq,
            id: Uuid::from_u128(seq as u128),
            at: DateTime::from_timestamp(1_790_000_000 + seq, 123_456_000).unwrap_or_default(),
            actor_id: Some(Uuid::from_u128(7)),
            actor_kind: "staff".into(),
            action: "patient.read".into(),
            record_kind: Some("patient".into()),
            record_id: Some(Uuid::from_u128(99)),
            patient_id: Some(Uuid::from_u128(99)),
            clinic_id: None,
            address: Some("127.0.0.1".into()),
            detail: detail.into(),
        }
    }

    fn chain(key: &AuditKey, details: &[String]) -> Vec<(AuditEntry, String, String)> {
        let mut prev = GENESIS.to_owned();
        let mut out = vec![];
        for (i, d) in details.iter().enumerate() {
            let e = entry(i as i64 + 1, d);
            let h = chain_hash(key, &prev, &e);
            out.push((e, prev.clone(), h.clone()));
            prev = h;
        }
        out
    }

    fn verify(key: &AuditKey, rows: &[(AuditEntry, String, String)]) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::new(key);
        rows.iter().try_for_each(|(e, p, h)| v.check(e, p, h))
    }

    #[test]
    fn canonical_form_separates_absent_from_empty() {
        let mut a = entry(1, "");
        let mut b = a.clone();
        a.address = None;
        b.address = Some(String::new());
        assert_ne!(a.canonical(), b.canonical());
    }

    #[test]
    fn key_debug_is_redacted() {
        let k = AuditKey::from_bytes([7; 32]);
        assert!(!format!("{k:?}").contains("07"));
        assert_eq!(AuditKey::from_hex(&k.to_hex()).map(|k| k.0), Some([7; 32]));
    }

    proptest! {
        #[test]
        fn an_untouched_chain_verifies(details in proptest::collection::vec("[a-z ]{0,12}", 1..20)) {
            let key = AuditKey::from_bytes([1; 32]);
            prop_assert_eq!(verify(&key, &chain(&key, &details)), Ok(()));
        }

        #[test]
        fn editing_any_row_is_caught_at_that_row(
            details in proptest::collection::vec("[a-z ]{0,12}", 1..20),
            pick in any::<prop::sample::Index>(),
        ) {
            let key = AuditKey::from_bytes([1; 32]);
            let mut rows = chain(&key, &details);
            let i = pick.index(rows.len());
            rows[i].0.detail.push('!');
            prop_assert_eq!(verify(&key, &rows).map_err(|e| e.seq()), Err(i as i64 + 1));
        }

        #[test]
        fn deleting_a_row_is_caught(
            details in proptest::collection::vec("[a-z ]{0,12}", 2..20),
            pick in any::<prop::sample::Index>(),
        ) {
            let key = AuditKey::from_bytes([1; 32]);
            let mut rows = chain(&key, &details);
            let i = pick.index(rows.len() - 1);
            rows.remove(i);
            prop_assert!(verify(&key, &rows).is_err());
        }

        #[test]
        fn another_key_cannot_rebuild_the_chain(details in proptest::collection::vec("[a-z]{0,5}", 1..5)) {
            let rows = chain(&AuditKey::from_bytes([2; 32]), &details);
            prop_assert_eq!(verify(&AuditKey::from_bytes([1; 32]), &rows).map_err(|e| e.seq()), Err(1));
        }
    }
}
