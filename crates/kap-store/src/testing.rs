//! Fresh, migrated databases for tests (behind the `testing` feature, never in the binary): an
//! in-memory SQLite database, or a new PostgreSQL schema on the server named by
//! `KAPSTONE_TEST_PG_URL`.

use crate::{Db, Result, Store, StoreError, TableShape, random_hex, same_type};
use kap_domain::audit::AuditKey;
use sqlx::postgres::PgConnectOptions;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Why PostgreSQL tests are ignored unless asked for.
pub const PG_IGNORED: &str =
    "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored";

/// The PostgreSQL server for tests, if one is configured.
pub fn pg_url() -> Option<String> {
    std::env::var("KAPSTONE_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub async fn sqlite() -> Result<Db> {
    let db = Db::connect("sqlite::memory:").await?;
    db.migrate().await?;
    Ok(db)
}

/// A new schema, named at random, on the test server; every connection of the pool uses it.
pub async fn postgres(url: &str) -> Result<Db> {
    let schema = format!("t_{}", random_hex(8));
    let admin = Db::connect(url).await?;
    if let Db::Postgres(p) = &admin {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(p)
            .await?;
    }
    admin.close().await;
    let opts = PgConnectOptions::from_str(url)?.options([("search_path", schema.as_str())]);
    let db = Db::connect_pg(opts).await?;
    db.migrate().await?;
    Ok(db)
}

/// A store over a fresh SQLite database in a file in `dir` (with the readers' pool of its own,
/// as in production; the in-memory database of [`store`] has one connection for everything).
pub async fn sqlite_file_store(dir: &std::path::Path) -> Result<Store> {
    let db = Db::connect(&format!("sqlite://{}/kapstone.db", dir.display())).await?;
    db.migrate().await?;
    let key = AuditKey::from_hex(&random_hex(32))
        .ok_or_else(|| StoreError::BadUrl("random key".into()))?;
    Ok(Store::new(db, key))
}

/// Holds the audit chain's lock (as a write transaction appending rows would) until released,
/// so a test can line up reads waiting for the group commit.
pub struct ChainHold(crate::db::Tx);

pub async fn hold_audit_chain(store: &Store) -> Result<ChainHold> {
    let mut tx = store.db.begin().await?;
    crate::audited::chain_lock(&mut tx).await?;
    Ok(ChainHold(tx))
}

impl ChainHold {
    pub async fn release(self) -> Result<()> {
        self.0.rollback().await
    }
}

/// A store over a fresh database of the given backend (`sqlite` or `postgres`), with a random
/// audit key. Asking for PostgreSQL without a server configured is an error, never a quiet
/// switch to SQLite.
pub async fn store(backend: &str) -> Result<Store> {
    let db = match backend {
        "postgres" => {
            let url = pg_url().ok_or_else(|| {
                StoreError::BadUrl("KAPSTONE_TEST_PG_URL is not set (PostgreSQL tests)".into())
            })?;
            postgres(&url).await?
        }
        "sqlite" => sqlite().await?,
        other => return Err(StoreError::BadUrl(format!("unknown test backend {other}"))),
    };
    let key = AuditKey::from_hex(&random_hex(32))
        .ok_or_else(|| StoreError::BadUrl("random key".into()))?;
    Ok(Store::new(db, key))
}

/// Every way two schemas differ: tables, columns, column types (paired across backends),
/// nullability and index names. Empty when they agree.
pub fn schema_differences(
    sqlite: &BTreeMap<String, TableShape>,
    postgres: &BTreeMap<String, TableShape>,
) -> Vec<String> {
    let mut out = vec![];
    for name in sqlite.keys().chain(postgres.keys()) {
        let (Some(a), Some(b)) = (sqlite.get(name), postgres.get(name)) else {
            out.push(format!("table {name} exists on one backend only"));
            continue;
        };
        for col in a.columns.keys().chain(b.columns.keys()) {
            match (a.columns.get(col), b.columns.get(col)) {
                (Some((ta, na)), Some((tb, nb))) => {
                    if !same_type(ta, tb) {
                        out.push(format!("{name}.{col}: {ta} on SQLite, {tb} on PostgreSQL"));
                    }
                    if na != nb {
                        out.push(format!("{name}.{col}: NOT NULL on one backend only"));
                    }
                }
                _ => out.push(format!("{name}.{col} exists on one backend only")),
            }
        }
        if a.indexes != b.indexes {
            out.push(format!(
                "{name} indexes: {:?} on SQLite, {:?} on PostgreSQL",
                a.indexes, b.indexes
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Runs the same expression against whichever pool a [`Db`] holds, for tests that reach past
/// the store (to tamper with rows, or to age them).
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($p, _) => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}
