//! `kapstone backup --to FILE`: a consistent copy of the SQLite database (`VACUUM INTO`); for
//! PostgreSQL, how to use its own tools.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Result, bail};
use kap_store::Db;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Destination file (must not exist).
    #[arg(long)]
    to: PathBuf,
}

pub async fn run(config: &Config, a: Args) -> Result<ExitCode> {
    let store = open(config, Open::Existing).await?;
    let to = a.to;
    let key = config.audit_key_path();
    match &store.db {
        Db::Sqlite(..) => {
            if to.exists() {
                bail!("{} already exists; choose a new file", to.display());
            }
            store.db.backup_sqlite(&to.display().to_string()).await?;
            println!("Backup written to {}.", to.display());
            println!(
                "Keep the audit key ({}) safe as well: the audit trail cannot be verified without it.",
                key.display()
            );
        }
        Db::Postgres(_) => {
            println!("PostgreSQL is backed up with its own tools, for example:");
            println!(
                "  pg_dump --format=custom --file={} \"$DATABASE_URL\"",
                to.display()
            );
            println!(
                "and restored with pg_restore. Keep the audit key ({}) with the backup.",
                key.display()
            );
        }
    }
    ok()
}
