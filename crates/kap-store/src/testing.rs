//! Fresh, migrated databases for tests: an in-memory SQLite database, or a new PostgreSQL schema
//! on the server named by `KAPSTONE_TEST_PG_URL`.

use crate::{Db, Result, Store, random_hex};
use kap_domain::audit::AuditKey;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

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

/// A store over a fresh database of the given backend (`sqlite` or `postgres`), with a random
/// audit key.
pub async fn store(backend: &str) -> Result<Store> {
    let db = match backend {
        "postgres" => {
            let url = pg_url().ok_or_else(|| {
                crate::StoreError::BadUrl("KAPSTONE_TEST_PG_URL is not set".into())
            })?;
            postgres(&url).await?
        }
        _ => sqlite().await?,
    };
    let mut key = [0u8; 32];
    key.copy_from_slice(&hex::decode(random_hex(32)).unwrap_or_else(|_| vec![0; 32]));
    Ok(Store::new(db, AuditKey::from_bytes(key)))
}
