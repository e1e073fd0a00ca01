//! Checkpoints of the chain's head: "row N had hash H at time T", signed with a key derived
//! from the audit key and written outside the database (a file beside the key, optionally an
//! external witness). Someone who can delete rows from the database cannot delete a checkpoint
//! there, so `audit verify` sees rows cut off the end as clearly as an edited row.

use super::AuditKey;
use chrono::{DateTime, Utc};

/// One checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint line {line} cannot be read")]
    Malformed { line: usize },
    #[error(
        "checkpoint line {line} is not signed by this audit key (forged or from another installation)"
    )]
    BadSignature { line: usize },
}

const VERSION: &str = "kapstone-checkpoint-v1";

fn signature(key: &AuditKey, seq: i64, hash: &str, at: &str) -> String {
    let k = AuditKey::from_bytes(key.derive("audit checkpoints"));
    k.mac(&[
        VERSION.as_bytes(),
        seq.to_string().as_bytes(),
        hash.as_bytes(),
        at.as_bytes(),
    ])
}

impl Checkpoint {
    /// The checkpoint as one signed line: `kapstone-checkpoint-v1 <seq> <hash> <time> <sig>`.
    pub fn to_line(&self, key: &AuditKey) -> String {
        let at = super::canonical_time(self.at);
        let sig = signature(key, self.seq, &self.hash, &at);
        format!("{VERSION} {} {} {at} {sig}", self.seq, self.hash)
    }

    /// Reads line number `line` (from 1) of a checkpoint file and checks its signature.
    pub fn from_line(
        text: &str,
        key: &AuditKey,
        line: usize,
    ) -> Result<Checkpoint, CheckpointError> {
        let malformed = CheckpointError::Malformed { line };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [version, seq, hash, at, sig] = parts[..] else {
            return Err(malformed);
        };
        if version != VERSION {
            return Err(malformed);
        }
        let seq: i64 = seq.parse().map_err(|_| malformed.clone())?;
        let when = DateTime::parse_from_rfc3339(at)
            .map_err(|_| malformed.clone())?
            .with_timezone(&Utc);
        if signature(key, seq, hash, at) != sig {
            return Err(CheckpointError::BadSignature { line });
        }
        Ok(Checkpoint {
            seq,
            hash: hash.to_owned(),
            at: when,
        })
    }

    /// Every checkpoint of a file's text, in order; blank lines are skipped.
    pub fn parse_all(text: &str, key: &AuditKey) -> Result<Vec<Checkpoint>, CheckpointError> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| Checkpoint::from_line(l, key, i + 1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp() -> Checkpoint {
        Checkpoint {
            seq: 42,
            hash: "ab".repeat(32),
            at: DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap_or_default(),
        }
    }

    #[test]
    fn a_checkpoint_line_round_trips_under_its_key() {
        let key = AuditKey::from_bytes([3; 32]);
        let line = cp().to_line(&key);
        assert!(line.starts_with("kapstone-checkpoint-v1 42 "));
        assert_eq!(Checkpoint::from_line(&line, &key, 1), Ok(cp()));
        assert_eq!(
            Checkpoint::parse_all(&format!("{line}\n\n{line}\n"), &key).map(|v| v.len()),
            Ok(2)
        );
    }

    #[test]
    fn a_forged_or_foreign_checkpoint_is_refused() {
        let key = AuditKey::from_bytes([3; 32]);
        let line = cp().to_line(&key);
        let other = AuditKey::from_bytes([4; 32]);
        assert_eq!(
            Checkpoint::from_line(&line, &other, 7),
            Err(CheckpointError::BadSignature { line: 7 })
        );
        let lowered = line.replace(" 42 ", " 41 ");
        assert_eq!(
            Checkpoint::from_line(&lowered, &key, 1),
            Err(CheckpointError::BadSignature { line: 1 })
        );
        assert_eq!(
            Checkpoint::from_line("garbage", &key, 2),
            Err(CheckpointError::Malformed { line: 2 })
        );
    }
}
