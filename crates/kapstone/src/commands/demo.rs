//! `kapstone demo`: a fresh synthetic demo clinic, served at once. It lives in a place of its
//! own — the `kapstone-demo/` data directory, or a `kapstone_demo` schema on PostgreSQL — and
//! is made anew each run, so it never touches a real clinic's data; every other command works
//! on it with `--data-dir kapstone-demo`.

use super::serve::serve;
use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use kap_store::Db;
use std::path::PathBuf;
use std::process::ExitCode;

/// The demo's data directory unless `--data-dir` says otherwise.
pub const DATA_DIR: &str = "kapstone-demo";
/// The PostgreSQL schema a demo lives in.
const PG_SCHEMA: &str = "kapstone_demo";

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub listen: Option<String>,
    /// How many synthetic patients to create.
    #[arg(long, default_value_t = 300)]
    pub patients: usize,
}

pub async fn run(config: &Config, a: Args, url_given: bool) -> Result<ExitCode> {
    let mut config = config.clone();
    let url = config.database_url();
    if url.starts_with("postgres") {
        config.database_url = Some(fresh_pg_schema(&url).await?);
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        fresh_sqlite(&PathBuf::from(path), url_given).await?;
    }
    // A fresh trail: the checkpoints of the previous demo's trail would not match it.
    let checkpoints = config.checkpoint_path();
    if checkpoints.exists() {
        std::fs::remove_file(&checkpoints)
            .with_context(|| format!("removing {}", checkpoints.display()))?;
    }
    let store = open(&config, Open::CreateAndMigrate).await?;
    let logins = crate::demo::seed(&store, a.patients).await?;
    serve(&config, store, Some(logins)).await?;
    ok()
}

/// Drops and recreates the demo's own schema and returns a URL whose connections use it.
async fn fresh_pg_schema(url: &str) -> Result<String> {
    let db = Db::connect(url).await.context("opening the database")?;
    if let Db::Postgres(p) = &db {
        for sql in [
            format!("DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"),
            format!("CREATE SCHEMA {PG_SCHEMA}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await?;
        }
    }
    db.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-c%20search_path%3D{PG_SCHEMA}"))
}

/// Removes an earlier demo database so the demo starts fresh — but only one that holds a demo:
/// a database given with `--database-url` that holds anything else is refused, never erased.
async fn fresh_sqlite(path: &std::path::Path, url_given: bool) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if url_given && !holds_only_the_demo(path).await? {
        bail!(
            "{} holds data that is not a Kapstone demo; the demo will not erase it. Give the demo a new file.",
            path.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

async fn holds_only_the_demo(path: &std::path::Path) -> Result<bool> {
    let db = Db::connect_existing(&format!("sqlite://{}", path.display())).await?;
    let others: i64 = match &db {
        Db::Sqlite(p, _) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_user WHERE email NOT LIKE '%@demo.kapstone.test'",
        )
        .fetch_one(p)
        .await
        .unwrap_or(1),
        Db::Postgres(_) => 1,
    };
    db.close().await;
    Ok(others == 0)
}
