//! The binary as an operator uses it: migrate, add staff with a password on stdin, create a
//! token, verify the audit trail — and catch a tampered row by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn kapstone(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapstone"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("KAPSTONE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kapstone");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("write");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kapstone-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

#[test]
fn operator_commands_and_tamper_detection() {
    let dir = temp_dir("ops");
    let o = kapstone(&dir, &["migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        dir.join("audit.key").exists(),
        "the audit key is created beside the data"
    );

    let o = kapstone(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "ada@clinic.example",
            "--role",
            "admin",
            "--name",
            "Ada Admin",
        ],
        Some("short\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 15 characters"), "{}", text(&o));
    let o = kapstone(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "ada@clinic.example",
            "--role",
            "healer",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown role"));
    let o = kapstone(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "ada@clinic.example",
            "--role",
            "admin",
            "--name",
            "Ada Admin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(o.status.success(), "{}", text(&o));

    // A forgotten password, reset by the operator: the rule still applies; then it works.
    let reset = ["user", "reset-password", "--email", "ada@clinic.example"];
    let o = kapstone(&dir, &reset, Some("too short\n"));
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 15 characters"), "{}", text(&o));
    let o = kapstone(&dir, &reset, Some("a brand new passphrase for ada\n"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Ada Admin"), "{}", text(&o));
    let o = kapstone(
        &dir,
        &["user", "reset-password", "--email", "nobody@clinic.example"],
        Some("a brand new passphrase for ada\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("no staff account"), "{}", text(&o));

    let o = kapstone(
        &dir,
        &["clinic", "add", "--name", "North site", "--slug", "north"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let grant = [
        "user",
        "grant",
        "--email",
        "ada@clinic.example",
        "--role",
        "prescriber",
        "--clinic",
        "north",
    ];
    let o = kapstone(&dir, &grant, None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Prescriber in North site"),
        "{}",
        text(&o)
    );

    let o = kapstone(
        &dir,
        &["token", "create", "--email", "ada@clinic.example"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .starts_with("kap_")
    );

    let o = kapstone(&dir, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact"));

    // Someone with database access edits an audit row (the trigger has to go first).
    let db = dir.join("kapstone.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open");
        sqlx::query("DROP TRIGGER audit_event_no_update")
            .execute(&pool)
            .await
            .expect("drop trigger");
        sqlx::query("UPDATE audit_event SET detail = 'nothing to see' WHERE seq = 3")
            .execute(&pool)
            .await
            .expect("tamper");
        pool.close().await;
    });
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BROKEN at row 3"), "{}", text(&o));

    let backup = dir.join("backup.db");
    let o = kapstone(
        &dir,
        &["backup", "--to", backup.to_str().expect("path")],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(backup.exists());
    let o = kapstone(
        &dir,
        &["backup", "--to", backup.to_str().expect("path")],
        None,
    );
    assert!(!o.status.success(), "an existing file is never overwritten");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_without_the_key_refuses() {
    let dir = temp_dir("nokey");
    assert!(kapstone(&dir, &["migrate"], None).status.success());
    std::fs::remove_file(dir.join("audit.key")).expect("rm");
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert!(!o.status.success());
    assert!(text(&o).contains("audit key"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_only_commands_never_create_a_database() {
    let dir = temp_dir("readonly");
    let o = kapstone(&dir, &["token", "create", "--email", "a@b.example"], None);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("no Kapstone database at sqlite://"), "{t}");
    assert!(
        t.contains("kapstone.db"),
        "names the database it looked for: {t}"
    );
    assert!(
        !dir.join("kapstone.db").exists(),
        "a wrong path leaves no empty database behind"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn token_create_prints_only_the_token_on_standard_output() {
    let dir = temp_dir("tokenout");
    assert!(kapstone(&dir, &["migrate"], None).status.success());
    let add = [
        "user",
        "add",
        "--email",
        "ada@clinic.example",
        "--role",
        "admin",
    ];
    let o = kapstone(&dir, &add, Some("correct horse battery staple"));
    assert!(o.status.success(), "{}", text(&o));
    let o = kapstone(
        &dir,
        &["token", "create", "--email", "ada@clinic.example"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("kap_") && lines[0].len() == 68,
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Patients the demo tests ask for: enough for the demo's courses, which begin after the
/// screening demo's patients.
const DEMO_PATIENTS: i64 = 20;

/// Runs `demo` until it serves, then stops it; returns what it printed.
fn demo_once(dir: &Path, extra: &[&str]) -> String {
    use std::io::{BufRead, BufReader};
    let mut args = vec!["--data-dir".to_owned(), dir.display().to_string()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let patients = DEMO_PATIENTS.to_string();
    args.extend(
        [
            "demo",
            "--patients",
            patients.as_str(),
            "--listen",
            "127.0.0.1:0",
        ]
        .map(String::from),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapstone"))
        .args(&args)
        .env_remove("KAPSTONE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run demo");
    let mut out = String::new();
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        out.push_str(&line);
        out.push('\n');
        if line.contains("Kapstone is running") {
            break;
        }
    }
    let _ = child.kill();
    let o = child.wait_with_output().expect("wait");
    out.push_str(&String::from_utf8_lossy(&o.stderr));
    out
}

fn count(url: &str, sql: &'static str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let db = kap_store::Db::connect_existing(url).await.expect("open");
        let n = kap_store::on_db!(&db, |p| sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(p)
            .await
            .expect("count"));
        db.close().await;
        n
    })
}

#[test]
fn demo_starts_fresh_each_run_and_never_erases_a_real_database() {
    let dir = temp_dir("demo");
    for _ in 0..2 {
        let out = demo_once(&dir, &[]);
        assert!(out.contains("Kapstone is running"), "{out}");
        assert!(
            out.contains("same directory as the database"),
            "serve warns when the audit key sits beside the database: {out}"
        );
    }
    let url = format!("sqlite://{}", dir.join("kapstone.db").display());
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM patient"),
        DEMO_PATIENTS,
        "fresh, not added to"
    );
    assert!(
        count(
            &url,
            "SELECT COUNT(*) FROM dosing_session WHERE stage = 'signed'"
        ) > 0,
        "the demo has co-signed dosing sessions"
    );
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) FROM dosing_session WHERE stage IN ('dosing', 'monitoring', 'ready')"
        ),
        1,
        "the demo has one patient in the chair today"
    );
    // The CLI works on the demo's data directory.
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));
    // A real database named with --database-url is refused, never erased.
    let real = temp_dir("realdb");
    assert!(kapstone(&real, &["migrate"], None).status.success());
    let add = [
        "user",
        "add",
        "--email",
        "ada@clinic.example",
        "--role",
        "admin",
    ];
    assert!(
        kapstone(&real, &add, Some("correct horse battery staple"))
            .status
            .success()
    );
    let real_url = format!("sqlite://{}", real.join("kapstone.db").display());
    let out = demo_once(&dir, &["--database-url", &real_url]);
    assert!(out.contains("not a Kapstone demo"), "{out}");
    assert_eq!(count(&real_url, "SELECT COUNT(*) FROM staff_user"), 1);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&real);
}

#[test]
#[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
fn demo_on_postgres_lives_in_its_own_schema_made_anew() {
    let url = std::env::var("KAPSTONE_TEST_PG_URL").expect("KAPSTONE_TEST_PG_URL");
    let dir = temp_dir("demo-pg");
    for _ in 0..2 {
        let out = demo_once(&dir, &["--database-url", &url]);
        assert!(out.contains("Kapstone is running"), "{out}");
    }
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM kapstone_demo.patient"),
        DEMO_PATIENTS,
        "fresh, not added to"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Every row of every table of an SQLite database, as text (to compare two databases).
fn dump(db: &Path) -> Vec<(String, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&pool)
                .await
                .expect("tables");
        let mut out = vec![];
        for t in tables {
            let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
            )))
            .fetch_all(&pool)
            .await
            .expect("cols");
            let row = cols
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT group_concat(r, ';') FROM (SELECT {row} AS r FROM \"{t}\" ORDER BY 1)"
            )))
            .fetch_one(&pool)
            .await
            .expect("rows");
            out.push((t, text.unwrap_or_default()));
        }
        pool.close().await;
        out
    })
}

#[test]
fn checkpoints_catch_rows_cut_off_the_end() {
    let dir = temp_dir("checkpoints");
    assert!(kapstone(&dir, &["migrate"], None).status.success());
    let add = [
        "user",
        "add",
        "--email",
        "ada@clinic.example",
        "--role",
        "admin",
    ];
    assert!(
        kapstone(&dir, &add, Some("correct horse battery staple"))
            .status
            .success()
    );
    let cp = std::fs::read_to_string(dir.join("audit.checkpoints")).expect("checkpoint file");
    assert!(cp.lines().count() >= 2, "{cp}");
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("reaching all"), "{}", text(&o));
    // Someone with the database file drops the guard and deletes the newest rows.
    let db = dir.join("kapstone.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open");
        sqlx::query("DROP TRIGGER audit_event_no_delete")
            .execute(&pool)
            .await
            .expect("drop trigger");
        sqlx::query("DELETE FROM audit_event WHERE seq > 1")
            .execute(&pool)
            .await
            .expect("truncate");
        pool.close().await;
    });
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rows after #1 missing"), "{}", text(&o));
    // A forged checkpoint line is refused, not believed.
    std::fs::write(
        dir.join("audit.checkpoints"),
        "kapstone-checkpoint-v1 1 ab 2026-01-01T00:00:00.000000Z 00\n",
    )
    .expect("forge");
    let o = kapstone(&dir, &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("not signed by this audit key"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_at_rest_are_for_the_owner_only_and_backups_round_trip() {
    // A data directory Kapstone makes itself.
    let top = temp_dir("rest");
    let dir = top.join("installation");
    assert!(kapstone(&dir, &["migrate"], None).status.success());
    let add = [
        "user",
        "add",
        "--email",
        "ada@clinic.example",
        "--role",
        "admin",
    ];
    assert!(
        kapstone(&dir, &add, Some("correct horse battery staple"))
            .status
            .success()
    );
    let plain = dir.join("backup.db");
    let o = kapstone(&dir, &["backup", "--to", plain.to_str().expect("p")], None);
    assert!(o.status.success(), "{}", text(&o));
    // An encrypted backup, to a fresh age key.
    let identity = age::x25519::Identity::generate();
    let id_file = dir.join("backup.agekey");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&id_file, identity.to_string().expose_secret()).expect("identity");
    }
    let sealed = dir.join("backup.db.age");
    let recipient = identity.to_public().to_string();
    let o = kapstone(
        &dir,
        &[
            "backup",
            "--to",
            sealed.to_str().expect("p"),
            "--encrypt-to",
            &recipient,
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let head = std::fs::read(&sealed).expect("sealed");
    assert!(head.starts_with(b"age-encryption.org/v1"));
    #[cfg(unix)]
    {
        for f in [
            "kapstone.db",
            "audit.key",
            "audit.checkpoints",
            "backup.db",
            "backup.db.age",
        ] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        assert_eq!(mode(&dir), 0o700);
    }
    // Restore each into a new installation with the same key: every table identical, and the
    // trail verifies.
    let original = dump(&dir.join("kapstone.db"));
    for (backup, extra) in [
        (&plain, vec![]),
        (&sealed, vec!["--identity", id_file.to_str().expect("p")]),
    ] {
        let other = temp_dir("restored");
        std::fs::copy(dir.join("audit.key"), other.join("audit.key")).expect("key");
        let mut args = vec!["restore", "--from", backup.to_str().expect("p")];
        args.extend(extra.iter().copied());
        let o = kapstone(&other, &args, None);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            dump(&other.join("kapstone.db")),
            original,
            "{}",
            backup.display()
        );
        let o = kapstone(&other, &["audit", "verify"], None);
        assert!(o.status.success(), "{}", text(&o));
        // A database in place is never overwritten without --replace, and kept with it.
        let o = kapstone(&other, &args, None);
        assert!(!o.status.success());
        assert!(text(&o).contains("--replace"), "{}", text(&o));
        args.push("--replace");
        let o = kapstone(&other, &args, None);
        assert!(o.status.success(), "{}", text(&o));
        let kept = std::fs::read_dir(&other)
            .expect("dir")
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("kapstone.db.before-restore-")
            });
        assert!(kept, "the replaced database is kept");
        let _ = std::fs::remove_dir_all(&other);
    }
    // The encrypted backup does not open without its identity, nor under another key.
    let other = temp_dir("restored-nokey");
    std::fs::copy(dir.join("audit.key"), other.join("audit.key")).expect("key");
    let o = kapstone(
        &other,
        &["restore", "--from", sealed.to_str().expect("p")],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("--identity"), "{}", text(&o));
    std::fs::write(other.join("audit.key"), "ab".repeat(32)).expect("another key");
    let o = kapstone(
        &other,
        &["restore", "--from", plain.to_str().expect("p"), "--replace"],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("does not verify"), "{}", text(&o));
    assert!(!other.join("kapstone.db").exists(), "nothing put in place");
    let _ = std::fs::remove_dir_all(&other);
    let _ = std::fs::remove_dir_all(&top);
}
