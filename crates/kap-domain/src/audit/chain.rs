//! The keyed hash chain over audit rows:
//! `hash_n = HMAC-SHA256(key, hash_{n-1} ‖ canonical(row_n))`, with the row's sequence number in
//! its canonical form, so editing, deleting or reordering a row breaks every later link. The key
//! lives outside the database: someone who can only write to the database cannot rebuild it.
//! Cutting rows off the end leaves a shorter chain that still links; the signed checkpoints of
//! the head (kept outside the database) catch that.

use super::{AuditEntry, Checkpoint};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The hash that the first row links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

impl AuditKey {
    /// HMAC-SHA256 under this key of the parts, each followed by `|` (hex).
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> String {
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            Ok(m) => m,
            // HMAC accepts keys of any length; this arm cannot be taken.
            Err(_) => return String::new(),
        };
        for p in parts {
            mac.update(p);
            mac.update(b"|");
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// A key for another purpose, derived from this one (HMAC of the purpose's label), so that
    /// one secret kept outside the database protects the chain and, say, sealed outbox links,
    /// without one use ever weakening the other.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        let h = self.mac(&[b"kapstone key derivation v1", purpose.as_bytes()]);
        if let Ok(bytes) = hex::decode(h) {
            out.copy_from_slice(&bytes[..32]);
        }
        out
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
    /// The chain ends before a head that was checkpointed outside the database: rows were cut
    /// off the end (or all of them deleted).
    #[error(
        "rows after #{last} missing: the trail ends at row {last}, but a checkpoint taken {at} recorded row {checkpoint_seq}"
    )]
    Truncated {
        last: i64,
        checkpoint_seq: i64,
        at: String,
    },
    /// A row a checkpoint recorded is there, but with another hash: the chain was rebuilt.
    #[error("audit row {seq} differs from its checkpoint taken {at} (the chain was rewritten)")]
    CheckpointMismatch { seq: i64, at: String },
}

impl ChainBreak {
    /// The first row affected.
    pub fn seq(&self) -> i64 {
        match self {
            Self::HashMismatch { seq }
            | Self::BadLink { seq }
            | Self::Gap { seq, .. }
            | Self::CheckpointMismatch { seq, .. } => *seq,
            Self::Truncated { last, .. } => *last + 1,
        }
    }
}

fn checkpoint_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Incremental verifier: feed rows in sequence order, then [`ChainVerifier::finish`].
pub struct ChainVerifier<'k> {
    key: &'k AuditKey,
    prev_hash: String,
    prev_seq: i64,
    pub rows: u64,
    /// Checkpoints not yet reached, highest sequence first (so the next is at the end).
    checkpoints: Vec<Checkpoint>,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k AuditKey) -> Self {
        Self::with_checkpoints(key, vec![])
    }

    /// A verifier that also checks the chain against checkpoints of its head.
    pub fn with_checkpoints(key: &'k AuditKey, mut checkpoints: Vec<Checkpoint>) -> Self {
        checkpoints.sort_by_key(|c| std::cmp::Reverse(c.seq));
        Self {
            key,
            prev_hash: GENESIS.to_owned(),
            prev_seq: 0,
            rows: 0,
            checkpoints,
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
        while let Some(c) = self.checkpoints.last().filter(|c| c.seq <= entry.seq) {
            if c.seq == entry.seq && c.hash != stored_hash {
                return Err(ChainBreak::CheckpointMismatch {
                    seq: entry.seq,
                    at: checkpoint_time(c.at),
                });
            }
            self.checkpoints.pop();
        }
        self.prev_hash = stored_hash.to_owned();
        self.prev_seq = entry.seq;
        self.rows += 1;
        Ok(())
    }

    /// After the last row: the chain must reach every checkpointed head. Returns the number of
    /// rows verified.
    pub fn finish(self) -> Result<u64, ChainBreak> {
        match self.checkpoints.first() {
            Some(c) => Err(ChainBreak::Truncated {
                last: self.prev_seq,
                checkpoint_seq: c.seq,
                at: checkpoint_time(c.at),
            }),
            None => Ok(self.rows),
        }
    }

    /// The head reached so far: the last row's sequence number and hash.
    pub fn head(&self) -> (i64, &str) {
        (self.prev_seq, &self.prev_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

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
        verify_with(key, rows, vec![]).map(|_| ())
    }

    fn verify_with(
        key: &AuditKey,
        rows: &[(AuditEntry, String, String)],
        cps: Vec<Checkpoint>,
    ) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::with_checkpoints(key, cps);
        rows.iter().try_for_each(|(e, p, h)| v.check(e, p, h))?;
        v.finish()
    }

    fn checkpoint_of(rows: &[(AuditEntry, String, String)], seq: usize) -> Checkpoint {
        Checkpoint {
            seq: seq as i64,
            hash: rows[seq - 1].2.clone(),
            at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn cutting_rows_off_the_end_is_caught_by_a_checkpoint() {
        let key = AuditKey::from_bytes([1; 32]);
        let details: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let rows = chain(&key, &details);
        let cps = vec![checkpoint_of(&rows, 4), checkpoint_of(&rows, 8)];
        assert_eq!(verify_with(&key, &rows, cps.clone()), Ok(10));
        for keep in [0, 3, 7] {
            let r = verify_with(&key, &rows[..keep], cps.clone());
            assert!(
                matches!(r, Err(ChainBreak::Truncated { last, .. }) if last == keep as i64),
                "{keep}: {r:?}"
            );
        }
        // Without checkpoints, a cut-off chain still verifies: that is what they are for.
        assert!(verify(&key, &rows[..3]).is_ok());
    }

    #[test]
    fn a_rebuilt_chain_does_not_match_its_checkpoint() {
        let key = AuditKey::from_bytes([1; 32]);
        let details: Vec<String> = (0..6).map(|i| i.to_string()).collect();
        let rows = chain(&key, &details);
        let cps = vec![checkpoint_of(&rows, 5)];
        let mut edited = details.clone();
        edited[1] = "rewritten".into();
        let rebuilt = chain(&key, &edited);
        assert!(matches!(
            verify_with(&key, &rebuilt, cps),
            Err(ChainBreak::CheckpointMismatch { seq: 5, .. })
        ));
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
