//! `kapstone audit verify`: recomputes the audit hash chain and names the first broken row.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Recompute the hash chain; exit non-zero naming the first broken row.
    Verify,
}

pub async fn run(config: &Config, command: Command) -> Result<ExitCode> {
    let Command::Verify = command;
    let key_path = config.audit_key_path();
    if !key_path.exists() {
        bail!(
            "audit key {} not found: the chain cannot be verified without it",
            key_path.display()
        );
    }
    let store = open(config, Open::Existing).await?;
    let v = store.verify_audit().await?;
    match v.broken {
        None => println!("Audit trail intact: {} rows verified.", v.rows),
        Some(b) => {
            println!("AUDIT TRAIL BROKEN at row {}: {b}", b.seq());
            println!("{} rows before it verified.", v.rows);
            return Ok(ExitCode::from(1));
        }
    }
    ok()
}
