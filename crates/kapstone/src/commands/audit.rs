//! `kapstone audit verify|show`: recomputes the audit hash chain against the checkpoints kept
//! outside the database; shows the installation's own rows (the system scope, which no clinic's
//! administrator sees).

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Result, bail};
use kap_domain::audit::Actor;
use kap_store::audit::{AuditFilter, AuditScope};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Recompute the hash chain; check it reaches every checkpoint; exit 1 naming the first
    /// broken row.
    Verify,
    /// Print the newest audit rows of the installation itself (failed logins, command-line
    /// actions): rows that belong to no clinic.
    Show {
        /// How many rows.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub async fn run(config: &Config, command: Command) -> Result<ExitCode> {
    match command {
        Command::Verify => verify(config).await,
        Command::Show { limit } => show(config, limit).await,
    }
}

async fn verify(config: &Config) -> Result<ExitCode> {
    let key_path = config.audit_key_path();
    if !key_path.exists() {
        bail!(
            "audit key {} not found: the chain cannot be verified without it",
            key_path.display()
        );
    }
    let store = open(config, Open::Existing).await?;
    let cp_path = config.checkpoint_path();
    let checkpoints = match crate::checkpoint::read(&cp_path, store.audit_key()) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!(
                "No checkpoint file at {}: rows cut off the end of the trail cannot be detected.",
                cp_path.display()
            );
            vec![]
        }
        Err(e) => {
            println!("CHECKPOINTS BROKEN: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let n = checkpoints.len();
    let v = store.verify_audit(checkpoints).await?;
    match v.broken {
        None => println!(
            "Audit trail intact: {} rows verified, reaching all {n} checkpoints.",
            v.rows
        ),
        Some(b) => {
            println!("AUDIT TRAIL BROKEN at row {}: {b}", b.seq());
            println!("{} rows before it verified.", v.rows);
            return Ok(ExitCode::from(1));
        }
    }
    ok()
}

async fn show(config: &Config, limit: i64) -> Result<ExitCode> {
    let store = open(config, Open::Existing).await?;
    let f = AuditFilter {
        limit: limit.clamp(1, 10_000),
        ..Default::default()
    };
    let rows = store
        .audit_rows(&Actor::system(), AuditScope::System, &f)
        .await?;
    for r in rows {
        println!(
            "#{} {} {} {} {} {}",
            r.seq,
            r.at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.actor_kind,
            r.action,
            r.address.as_deref().unwrap_or("-"),
            r.detail
        );
    }
    crate::checkpoint::after_command(config, &store).await;
    ok()
}
