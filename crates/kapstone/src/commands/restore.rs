//! `kapstone restore --from FILE [--identity FILE] [--replace]`: puts an SQLite backup (made by
//! `kapstone backup`, age-encrypted or not) in place of the configured database. The backup is
//! checked first — it must be a Kapstone database whose audit chain verifies under this
//! installation's key. Nothing is deleted: a database already in place is kept beside it (and
//! only with `--replace`), and so is the old checkpoint file, since the restored trail
//! legitimately ends where the backup was taken.

use super::ok;
use crate::config::Config;
use anyhow::{Context, Result, bail};
use kap_domain::audit::AuditKey;
use kap_store::{Db, Store};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

#[derive(clap::Args)]
pub struct Args {
    /// The backup file.
    #[arg(long)]
    from: PathBuf,
    /// The age identity file for an encrypted backup (`AGE-SECRET-KEY-…` lines).
    #[arg(long)]
    identity: Option<PathBuf>,
    /// Put the backup in place even though a database exists (it is kept beside, renamed).
    #[arg(long)]
    replace: bool,
}

const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

pub async fn run(config: &Config, a: Args) -> Result<ExitCode> {
    let Some(target) = config.sqlite_path() else {
        bail!("restore works on SQLite; a PostgreSQL database is restored with pg_restore");
    };
    let key_path = config.audit_key_path();
    let key = AuditKey::from_hex(
        &std::fs::read_to_string(&key_path)
            .with_context(|| format!("reading the audit key {}", key_path.display()))?,
    )
    .with_context(|| format!("{} is not a valid audit key", key_path.display()))?;
    if target.exists() && !a.replace {
        bail!(
            "{} already exists; use --replace to put the backup in its place (the current database is kept beside it)",
            target.display()
        );
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let staged = dir.join("restore.partial.db");
    if staged.exists() {
        bail!("{} is in the way; remove it first", staged.display());
    }
    // A backup that cannot be read, decrypted or verified leaves nothing behind.
    let staged_ok = match stage(&a, &staged) {
        Ok(()) => check(&staged, &key).await,
        Err(e) => Err(e),
    };
    if let Err(e) = staged_ok {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    let stamp = kap_store::now().format("%Y%m%dT%H%M%SZ").to_string();
    if target.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", target.display()));
            if p.exists() {
                let kept = PathBuf::from(format!(
                    "{}.before-restore-{stamp}{suffix}",
                    target.display()
                ));
                std::fs::rename(&p, &kept)
                    .with_context(|| format!("keeping {} as {}", p.display(), kept.display()))?;
            }
        }
    }
    std::fs::rename(&staged, &target)
        .with_context(|| format!("putting the backup at {}", target.display()))?;
    let cp = config.checkpoint_path();
    if cp.exists() {
        let kept = PathBuf::from(format!("{}.before-restore-{stamp}", cp.display()));
        std::fs::rename(&cp, &kept)?;
        println!(
            "Checkpoints of the replaced trail kept as {}.",
            kept.display()
        );
    }
    let store = Store::new(Db::connect_existing(&config.database_url()).await?, key);
    crate::checkpoint::after_command(config, &store).await;
    println!("Restored {} from {}.", target.display(), a.from.display());
    ok()
}

/// Copies (or decrypts) the backup to `staged`.
fn stage(a: &Args, staged: &Path) -> Result<()> {
    let mut input = std::fs::File::open(&a.from)
        .with_context(|| format!("opening the backup {}", a.from.display()))?;
    let mut head = [0u8; 21];
    let n = input.read(&mut head)?;
    let encrypted = head[..n] == *AGE_MAGIC;
    let mut input = std::fs::File::open(&a.from)?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(staged)
        .with_context(|| format!("creating {}", staged.display()))?;
    if !encrypted {
        std::io::copy(&mut input, &mut out)?;
        return Ok(out.sync_all()?);
    }
    let Some(id_path) = &a.identity else {
        bail!(
            "{} is encrypted: give its age identity file with --identity",
            a.from.display()
        );
    };
    let text = std::fs::read_to_string(id_path)
        .with_context(|| format!("reading {}", id_path.display()))?;
    let identities: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            age::x25519::Identity::from_str(l)
                .map_err(|e| anyhow::anyhow!("{}: not an age identity ({e})", id_path.display()))
        })
        .collect::<Result<_>>()?;
    let decryptor = age::Decryptor::new(input).map_err(|e| anyhow::anyhow!("decrypting: {e}"))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| anyhow::anyhow!("decrypting {}: {e}", a.from.display()))?;
    std::io::copy(&mut reader, &mut out)?;
    Ok(out.sync_all()?)
}

/// The staged file must be a Kapstone database whose audit chain verifies under this key.
async fn check(staged: &Path, key: &AuditKey) -> Result<()> {
    let db = Db::connect_existing(&format!("sqlite://{}", staged.display()))
        .await
        .context("the backup is not an SQLite database")?;
    if !db.is_migrated().await.unwrap_or(false) {
        db.close().await;
        bail!("the backup holds no Kapstone database");
    }
    let store = Store::new(db, key.clone());
    let v = store.verify_audit(vec![]).await;
    store.db.close().await;
    match v?.broken {
        None => Ok(()),
        Some(b) => {
            bail!("the backup's audit trail does not verify under this installation's key: {b}")
        }
    }
}
