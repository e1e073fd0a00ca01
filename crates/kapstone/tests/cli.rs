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
