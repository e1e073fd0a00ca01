//! One module per command, and what they share: opening the store (with its audit key) the
//! way each command needs.

pub mod audit;
pub mod backup;
pub mod clinic;
pub mod demo;
pub mod migrate;
pub mod restore;
pub mod serve;
pub mod token;
pub mod user;

use crate::config::Config;
use anyhow::{Context, Result, bail};
use kap_domain::audit::AuditKey;
use kap_store::{Db, Store};
use std::path::Path;
use std::process::ExitCode;

/// How a command opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Create the database (and its audit key) if missing and bring the schema up to date:
    /// `serve`, `migrate`, `demo`.
    CreateAndMigrate,
    /// The database must exist and carry Kapstone's schema; nothing is created.
    Existing,
}

/// Opens the store named by the configuration.
pub async fn open(config: &Config, how: Open) -> Result<Store> {
    let url = config.database_url();
    let shown = kap_store::redact_url(&url);
    let db = match how {
        Open::CreateAndMigrate => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
            let db = Db::connect(&url)
                .await
                .with_context(|| format!("opening database {shown}"))?;
            db.migrate().await.context("migrating the database")?;
            db
        }
        Open::Existing => {
            let db = Db::connect_existing(&url).await.with_context(|| {
                format!("no Kapstone database at {shown} (check --data-dir or --database-url; `kapstone migrate` creates one)")
            })?;
            if !db.is_migrated().await? {
                bail!("{shown} holds no Kapstone schema (run `kapstone migrate` first)");
            }
            db
        }
    };
    let store = Store::new(db, audit_key(config, how == Open::CreateAndMigrate)?);
    if how == Open::CreateAndMigrate {
        store.default_clinic().await?;
        let sealed = store.seal_plaintext_links().await?;
        if sealed > 0 {
            tracing::info!(sealed, "patient links in stored messages were sealed");
        }
        let indexed = store.index_patients_for_search().await?;
        if indexed > 0 {
            tracing::info!(indexed, "patients were indexed for search");
        }
    }
    Ok(store)
}

/// Reads the audit key, creating it (readable by the owner only) if `create` and it is absent.
fn audit_key(config: &Config, create: bool) -> Result<AuditKey> {
    let path = config.audit_key_path();
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return AuditKey::from_hex(&text)
            .with_context(|| format!("{} is not a valid audit key", path.display()));
    }
    if !create {
        bail!(
            "audit key {} not found: the chain cannot be verified or extended without it",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = AuditKey::from_hex(&kap_store::random_hex(32)).context("generating the audit key")?;
    write_private(&path, &key.to_hex())?;
    tracing::info!(
        "created audit key {}; back it up apart from the database",
        path.display()
    );
    Ok(key)
}

/// Writes a new file readable by its owner only; an existing file is never overwritten.
pub fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

pub fn ok() -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
