//! `kapstone backup --to FILE [--encrypt-to RECIPIENT]`: a consistent copy of the SQLite
//! database (`VACUUM INTO`), readable by its owner only, optionally encrypted with age to a
//! recipient (`age1…`); for PostgreSQL, how to use its own tools.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use kap_store::Db;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

#[derive(clap::Args)]
pub struct Args {
    /// Destination file (must not exist).
    #[arg(long)]
    to: PathBuf,
    /// Encrypt the backup to this age recipient (an `age1…` public key); restoring it then
    /// needs the matching identity file.
    #[arg(long)]
    encrypt_to: Option<String>,
}

pub async fn run(config: &Config, a: Args) -> Result<ExitCode> {
    let recipient = a
        .encrypt_to
        .as_deref()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|e| anyhow::anyhow!("--encrypt-to: not an age recipient ({e})"))
        })
        .transpose()?;
    let store = open(config, Open::Existing).await?;
    let to = a.to;
    let key = config.audit_key_path();
    match &store.db {
        Db::Sqlite(..) => {
            if to.exists() {
                bail!("{} already exists; choose a new file", to.display());
            }
            match recipient {
                None => store.db.backup_sqlite(&to.display().to_string()).await?,
                Some(r) => {
                    let plain = to.with_extension("unencrypted-partial");
                    if plain.exists() {
                        bail!("{} is in the way; remove it first", plain.display());
                    }
                    store.db.backup_sqlite(&plain.display().to_string()).await?;
                    let done = encrypt(&plain, &to, &r);
                    std::fs::remove_file(&plain)
                        .with_context(|| format!("removing {}", plain.display()))?;
                    done?;
                }
            }
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

fn encrypt(plain: &Path, to: &Path, r: &age::x25519::Recipient) -> Result<()> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(r as &dyn age::Recipient))
        .map_err(|e| anyhow::anyhow!("encrypting: {e}"))?;
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let mut writer = encryptor
        .wrap_output(out)
        .map_err(|e| anyhow::anyhow!("encrypting: {e}"))?;
    let mut input = std::fs::File::open(plain)?;
    std::io::copy(&mut input, &mut writer)?;
    writer.finish()?.sync_all()?;
    Ok(())
}
