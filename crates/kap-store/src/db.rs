//! The two backends behind one `Db`, chosen by URL scheme, and the few statements that must
//! differ between them. SQL elsewhere is written once, in the dialect both accept, and run
//! through the macros here.

use crate::error::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The two backends. Handlers never see which one they run on.
#[derive(Clone, Debug)]
pub enum Db {
    /// The pool (writes, and statements outside transactions), and what SQLite needs besides:
    /// the in-process writer lock (see [`Db::begin`]) and the readers' pool.
    Sqlite(SqlitePool, Arc<SqliteSide>),
    Postgres(PgPool),
}

/// SQLite's writer lock and its pool of read-only connections (see [`Db::begin_read`]).
#[derive(Debug)]
pub struct SqliteSide {
    writer: Arc<tokio::sync::Mutex<()>>,
    readers: SqlitePool,
}

/// An open transaction on either backend. A write transaction on SQLite also holds the writer
/// lock until it commits or is dropped; a read transaction holds nothing but its snapshot.
pub(crate) enum Tx {
    Sqlite(
        sqlx::Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    SqliteRead(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the executor of a transaction (`tx(&mut Tx)`) or a pool
/// (`db(&Db)`) of the concrete backend, so that one expression serves both.
macro_rules! on {
    (tx($t:expr), $c:ident => $body:expr) => {
        match $t {
            $crate::db::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::SqliteRead(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
    (db($d:expr), $c:ident => $body:expr) => {
        match $d {
            $crate::db::Db::Sqlite(p, _) => {
                let $c = p;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $c = p;
                $body
            }
        }
    };
}

/// A statement; evaluates to the number of rows it changed.
macro_rules! exec {
    ($on:ident($t:expr), $sql:expr $(, $a:expr)* $(,)?) => {
        $crate::db::on!($on($t), c => sqlx::query($sql)$(.bind($a))*.execute(c).await?.rows_affected())
    };
}

/// Every row of a query, as `$ty` (a `FromRow` type or a tuple).
macro_rules! fetch_all {
    ($on:ident($t:expr), $ty:ty, $sql:expr $(, $a:expr)* $(,)?) => {
        $crate::db::on!($on($t), c => sqlx::query_as::<_, $ty>($sql)$(.bind($a))*.fetch_all(c).await?)
    };
}

/// The row of a query, if there is one.
macro_rules! fetch_opt {
    ($on:ident($t:expr), $ty:ty, $sql:expr $(, $a:expr)* $(,)?) => {
        $crate::db::on!($on($t), c => sqlx::query_as::<_, $ty>($sql)$(.bind($a))*.fetch_optional(c).await?)
    };
}

/// The single value of a query that always returns one row.
macro_rules! scalar {
    ($on:ident($t:expr), $ty:ty, $sql:expr $(, $a:expr)* $(,)?) => {
        $crate::db::on!($on($t), c => sqlx::query_scalar::<_, $ty>($sql)$(.bind($a))*.fetch_one(c).await?)
    };
}

/// The single value of a query, if it returns a row.
macro_rules! scalar_opt {
    ($on:ident($t:expr), $ty:ty, $sql:expr $(, $a:expr)* $(,)?) => {
        $crate::db::on!($on($t), c => sqlx::query_scalar::<_, $ty>($sql)$(.bind($a))*.fetch_optional(c).await?)
    };
}

pub(crate) use {exec, fetch_all, fetch_opt, on, scalar, scalar_opt};

/// The `VALUES` list of a multi-row INSERT: `rows` tuples of `columns` numbered placeholders,
/// `($1,$2),($3,$4)…`, in the form both backends accept. One statement for many rows saves a
/// round trip (PostgreSQL) or a hop to the connection's thread (SQLite) per row.
pub(crate) fn values_list(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 1..=columns {
            if c > 1 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(r * columns + c).to_string());
        }
        sql.push(')');
    }
    sql
}

/// Prepared statements kept per connection: more than the application has (a few hundred), so
/// none is prepared twice on one connection.
const STATEMENT_CACHE: usize = 1024;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// One table's shape, for checking that both schemas agree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableShape {
    /// Column name → (declared type, lower-case; NOT NULL).
    pub columns: BTreeMap<String, (String, bool)>,
    /// Names of the indexes made by migrations (not those made implicitly for keys).
    pub indexes: Vec<String>,
}

impl Db {
    /// Opens the database named by `url`: `sqlite://path` (created if missing) or
    /// `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        Self::connect_with(url, true).await
    }

    /// Opens an SQLite database only if its file exists (commands that read must not create
    /// an empty database as a side effect of a wrong path); PostgreSQL as [`Db::connect`].
    pub async fn connect_existing(url: &str) -> Result<Db> {
        Self::connect_with(url, false).await
    }

    async fn connect_with(url: &str, create: bool) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Every page runs dozens of distinct statements; a cache that holds them all
                // keeps SQLite from parsing and planning them again on every request.
                .statement_cache_capacity(STATEMENT_CACHE);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool_options = || {
                SqlitePoolOptions::new()
                    .max_connections(if in_memory { 1 } else { 8 })
                    .min_connections(if in_memory { 1 } else { 0 })
                    .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
                    .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
            };
            let pool = pool_options().connect_with(opts.clone()).await?;
            // Readers get connections of their own that refuse to write (`query_only`), so a
            // read transaction that tried to change something fails loudly instead of taking
            // the write lock behind the writer queue's back. An in-memory database exists only
            // on its one connection, which therefore serves both.
            let readers = if in_memory {
                pool.clone()
            } else {
                pool_options()
                    .connect_with(opts.pragma("query_only", "ON"))
                    .await?
            };
            Ok(Db::Sqlite(
                pool,
                Arc::new(SqliteSide {
                    writer: Arc::new(tokio::sync::Mutex::new(())),
                    readers,
                }),
            ))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_pg(PgConnectOptions::from_str(url)?).await
        } else {
            Err(StoreError::BadUrl(redact_url(url)))
        }
    }

    pub async fn connect_pg(opts: PgConnectOptions) -> Result<Db> {
        let opts = opts.statement_cache_capacity(STATEMENT_CACHE);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Brings the schema up to date. Both backends carry the same migration versions.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p, _) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Whether the schema has been created here at all (some migration has run).
    pub async fn is_migrated(&self) -> Result<bool> {
        let sql = match self {
            Db::Sqlite(..) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Db::Postgres(_) => {
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        Ok(scalar!(db(self), i64, sql) > 0)
    }

    /// Opens a write transaction. On SQLite, writers first queue on an in-process lock (fair,
    /// FIFO) and then take the database's write lock at once (`BEGIN IMMEDIATE`, which also
    /// keeps other processes such as the CLI safe). Without the queue, concurrent writers meet
    /// SQLITE_BUSY and sleep in SQLite's busy handler, which showed as a 0.5 s latency tail
    /// under load. This is the one place the two backends differ in how a transaction starts.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p, side) => {
                let guard = side.writer.clone().lock_owned().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, guard)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Opens a read transaction: one consistent snapshot for the reads of a page, taking no
    /// write lock, so reads run side by side with each other and with the one writer. It
    /// refuses writes (SQLite's readers are `query_only`; PostgreSQL's is `READ ONLY`).
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(_, side) => Tx::SqliteRead(side.readers.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin_with("BEGIN READ ONLY").await?),
        })
    }

    /// Refreshes the planner's statistics (after a bulk import: without them PostgreSQL plans
    /// for an empty table until autovacuum comes round).
    pub async fn analyze(&self) -> Result<()> {
        exec!(db(self), "ANALYZE");
        Ok(())
    }

    pub async fn close(&self) {
        if let Db::Sqlite(_, side) = self {
            side.readers.close().await;
        }
        on!(db(self), p => p.close().await)
    }

    /// Every table with its columns and indexes, for checking that both schemas agree.
    pub async fn schema(&self) -> Result<BTreeMap<String, TableShape>> {
        /// Table, column, declared type, NOT NULL.
        type Column = (String, String, String, bool);
        let (columns, indexes): (Vec<Column>, Vec<(String, String)>) = match self {
            Db::Sqlite(..) => (
                fetch_all!(
                    db(self),
                    Column,
                    "SELECT m.name, c.name, lower(c.type), c.\"notnull\" <> 0
                         FROM sqlite_master m, pragma_table_info(m.name) c
                         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                           AND m.name NOT LIKE '_sqlx%'"
                ),
                fetch_all!(
                    db(self),
                    (String, String),
                    "SELECT tbl_name, name FROM sqlite_master
                         WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
                ),
            ),
            Db::Postgres(_) => (
                fetch_all!(
                    db(self),
                    Column,
                    "SELECT table_name::text, column_name::text, lower(data_type::text),
                            is_nullable = 'NO'
                         FROM information_schema.columns
                         WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
                ),
                fetch_all!(
                    db(self),
                    (String, String),
                    "SELECT i.tablename::text, i.indexname::text FROM pg_indexes i
                         WHERE i.schemaname = current_schema() AND i.tablename NOT LIKE '_sqlx%'
                           AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                           WHERE k.conname = i.indexname)"
                ),
            ),
        };
        let mut out: BTreeMap<String, TableShape> = BTreeMap::new();
        for (table, column, ty, not_null) in columns {
            out.entry(table)
                .or_default()
                .columns
                .insert(column, (ty, not_null));
        }
        for (table, index) in indexes {
            out.entry(table).or_default().indexes.push(index);
        }
        for t in out.values_mut() {
            t.indexes.sort();
        }
        Ok(out)
    }

    /// Writes a consistent copy of an SQLite database to `path` (`VACUUM INTO`).
    pub async fn backup_sqlite(&self, path: &str) -> Result<()> {
        match self {
            Db::Sqlite(p, _) => {
                sqlx::query("VACUUM INTO $1").bind(path).execute(p).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Unsupported(
                "PostgreSQL is backed up with pg_dump",
            )),
        }
    }
}

impl Tx {
    #[cfg(feature = "testing")]
    pub(crate) async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _guard) => t.rollback().await?,
            Tx::SqliteRead(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _guard) => t.commit().await?,
            Tx::SqliteRead(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A database URL with any password replaced, safe to log or show.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The column types that mean the same on both backends: SQLite's declared type beside the
/// PostgreSQL types it stands for (ids are UUIDs, times and dates are text on SQLite).
pub fn same_type(sqlite: &str, postgres: &str) -> bool {
    matches!(
        (sqlite, postgres),
        ("blob", "uuid")
            | ("text", "text" | "timestamp with time zone" | "date")
            | ("integer", "integer")
            | ("bigint", "bigint")
            | ("boolean", "boolean")
            | ("real", "double precision")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_list_numbers_every_placeholder_once_row_by_row() {
        assert_eq!(values_list(1, 3), "($1,$2,$3)");
        assert_eq!(values_list(2, 2), "($1,$2),($3,$4)");
        assert_eq!(values_list(0, 5), "");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://kap:s3cret@db:5432/kap"),
            "postgres://kap:***@db:5432/kap"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn column_types_pair_across_backends() {
        assert!(same_type("blob", "uuid"));
        assert!(same_type("text", "timestamp with time zone"));
        assert!(!same_type("integer", "text"));
        assert!(!same_type("text", "integer"));
    }
}
