//! Checkpoints of the audit chain's head, kept outside the database: each is one signed line
//! appended (and synced) to the checkpoint file — by default beside the audit key — and, when
//! configured, sent to an external witness (syslog). `serve` writes one at start, every time
//! the head has moved when its worker wakes (`worker_interval_seconds`), and at shutdown;
//! commands that write audit rows write one when they finish. `audit verify` then finds rows
//! cut off the end.
//!
//! Several `serve` processes over one database each write their own, with no lease: a checkpoint
//! is a signed statement of the head one process saw, true whoever else also made one, and
//! `audit verify` takes them in any order. So each machine's file stays current even when it
//! runs alone, and processes sharing a file only add lines to it: each line is one append
//! (`O_APPEND`, one `write`), so lines from two processes never interleave.

use crate::config::Config;
use anyhow::{Context, Result};
use kap_domain::audit::{AuditKey, Checkpoint};
use kap_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where checkpoints go besides the file.
#[derive(Debug, Clone)]
pub enum Witness {
    /// The local syslog socket.
    Syslog(PathBuf),
    /// A remote syslog collector over UDP.
    Udp(String),
}

impl Witness {
    pub fn parse(s: &str) -> Result<Witness> {
        match s.trim() {
            "syslog" => Ok(Witness::Syslog(PathBuf::from("/dev/log"))),
            t => match t.strip_prefix("udp://") {
                Some(addr) if !addr.is_empty() => Ok(Witness::Udp(addr.to_owned())),
                _ => anyhow::bail!(
                    "audit_witness \"{t}\" is not understood: use \"syslog\" or \"udp://host:port\""
                ),
            },
        }
    }

    /// Sends one checkpoint line as a syslog message (facility local0, notice).
    fn send(&self, line: &str) -> Result<()> {
        let msg = format!(
            "<133>kapstone[{}]: audit checkpoint {line}",
            std::process::id()
        );
        match self {
            #[cfg(unix)]
            Witness::Syslog(path) => {
                let s = std::os::unix::net::UnixDatagram::unbound()?;
                s.send_to(msg.as_bytes(), path)
                    .with_context(|| format!("sending to {}", path.display()))?;
            }
            #[cfg(not(unix))]
            Witness::Syslog(_) => anyhow::bail!("syslog needs a Unix system"),
            Witness::Udp(addr) => {
                let s = std::net::UdpSocket::bind("0.0.0.0:0")?;
                s.send_to(msg.as_bytes(), addr.as_str())
                    .with_context(|| format!("sending to {addr}"))?;
            }
        }
        Ok(())
    }
}

/// Writes checkpoints when the head has moved since the last one.
pub struct Checkpointer {
    path: PathBuf,
    key: AuditKey,
    witness: Option<Witness>,
    last_seq: i64,
}

impl Checkpointer {
    pub fn new(config: &Config, key: &AuditKey) -> Result<Checkpointer> {
        let path = config.checkpoint_path();
        let last_seq = read(&path, key)?
            .unwrap_or_default()
            .iter()
            .map(|c| c.seq)
            .max()
            .unwrap_or(0);
        Ok(Checkpointer {
            path,
            key: key.clone(),
            witness: config
                .audit_witness
                .as_deref()
                .map(Witness::parse)
                .transpose()?,
            last_seq,
        })
    }

    /// Appends a checkpoint of the current head if it moved; returns it.
    pub async fn checkpoint(&mut self, store: &Store) -> Result<Option<Checkpoint>> {
        let Some((seq, hash)) = store.audit_head().await? else {
            return Ok(None);
        };
        if seq <= self.last_seq {
            return Ok(None);
        }
        let c = Checkpoint {
            seq,
            hash,
            at: kap_store::now(),
        };
        let line = c.to_line(&self.key);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("opening the checkpoint file {}", self.path.display()))?;
        f.write_all(format!("{line}\n").as_bytes())?;
        f.sync_all()?;
        self.last_seq = seq;
        if let Some(w) = &self.witness
            && let Err(e) = w.send(&line)
        {
            // The file has it; the witness is a second copy. Say so, do not stop.
            tracing::warn!(error = %e, "audit checkpoint not delivered to the witness");
        }
        Ok(Some(c))
    }
}

/// Every checkpoint in the file, checked against the key; `None` when there is no file yet.
pub fn read(path: &Path, key: &AuditKey) -> Result<Option<Vec<Checkpoint>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            Checkpoint::parse_all(&text, key)
                .with_context(|| format!("checkpoint file {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes a checkpoint after a command that wrote audit rows (best effort: a command that
/// succeeded is not failed by its checkpoint, but the operator is told).
pub async fn after_command(config: &Config, store: &Store) {
    let done = match Checkpointer::new(config, store.audit_key()) {
        Ok(mut c) => c.checkpoint(store).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        eprintln!("kapstone: warning: audit checkpoint not written: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witnesses_are_parsed_or_refused_by_name() {
        assert!(matches!(Witness::parse("syslog"), Ok(Witness::Syslog(_))));
        assert!(matches!(
            Witness::parse("udp://127.0.0.1:514"),
            Ok(Witness::Udp(_))
        ));
        let e = Witness::parse("https://example.org")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("not understood")));
    }

    #[test]
    fn a_udp_witness_receives_the_signed_line() {
        let sink = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = sink.local_addr().expect("addr");
        let w = Witness::parse(&format!("udp://{addr}")).expect("parse");
        w.send("kapstone-checkpoint-v1 7 abc t sig").expect("send");
        let mut buf = [0u8; 512];
        let (n, _) = sink.recv_from(&mut buf).expect("recv");
        let got = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(
            got.contains("audit checkpoint kapstone-checkpoint-v1 7"),
            "{got}"
        );
    }
}
