//! Scale-out on PostgreSQL: two `kapstone serve` processes over one database, as behind a load
//! balancer. A session made on one process works on the other; failed logins on both count
//! toward one account's limit; hundreds of audited reads split across both leave one gap-free
//! chain that `kapstone audit verify` accepts; and with both workers running, every due
//! schedule makes one link and every queued message reaches the mail server once.
//!
//! PostgreSQL only (ignored unless asked for): the test makes its own database on the server
//! named by `KAPSTONE_TEST_PG_URL`, named after this process, and drops it at the end. Its
//! servers and mail sink listen on loopback ports from 18400.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A database of its own on the test server, dropped when the test ends (pass or fail).
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn admin_sql(admin: &str, sql: String) {
    rt().block_on(async {
        let db = kap_store::Db::connect(admin)
            .await
            .expect("admin connection");
        kap_store::on_db!(&db, |p| sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .expect("admin statement"));
        db.close().await;
    });
}

impl TestDb {
    fn create() -> TestDb {
        let admin = std::env::var("KAPSTONE_TEST_PG_URL").expect("KAPSTONE_TEST_PG_URL");
        let name = format!("kapstone_scale_{}", std::process::id());
        admin_sql(
            &admin,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        admin_sql(&admin, format!("CREATE DATABASE {name}"));
        let url = with_database(&admin, &name);
        TestDb { admin, name, url }
    }

    fn scalar(&self, sql: &'static str) -> i64 {
        rt().block_on(async {
            let db = kap_store::Db::connect(&self.url).await.expect("open");
            let n = kap_store::on_db!(&db, |p| sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(p)
                .await
                .expect(sql));
            db.close().await;
            n
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin_sql(
            &self.admin,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A loopback port from 18400 on that nothing here or elsewhere holds right now.
fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(18400);
    loop {
        let p = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(p < 18500, "no free port in 18400–18499");
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

fn kapstone(dir: &Path, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapstone"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
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
    let o = child.wait_with_output().expect("wait");
    assert!(
        o.status.success(),
        "kapstone {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// One `kapstone serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, url: &str, smtp_port: u16, name: &str) -> Server {
        let port = free_port();
        let out = dir.join(format!("{name}.out"));
        let child = Command::new(env!("CARGO_BIN_EXE_kapstone"))
            .arg("--data-dir")
            .arg(dir)
            .arg("--database-url")
            .arg(url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("KAPSTONE_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("KAPSTONE_MAIL_FROM", "Clinic <care@clinic.example>")
            .env("KAPSTONE_WORKER_INTERVAL_SECONDS", "1")
            .env("KAPSTONE_LOG", "warn")
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).expect("stderr file"))
            .spawn()
            .expect("run serve");
        let s = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("Kapstone is running")
        {
            assert!(Instant::now() < deadline, "{name} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    /// The value a `Set-Cookie` header gives the named cookie.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .find_map(|(_, v)| {
                let first = v.split(';').next()?;
                let (k, val) = first.split_once('=')?;
                (k.trim() == name && !val.is_empty()).then(|| val.to_owned())
            })
    }
}

/// One HTTP/1.1 request over a fresh connection (no HTTP client crate is needed for this).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = vec![];
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        payload = dechunk(&payload);
    }
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&payload).to_string(),
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// Logs in on one process; returns the response to the form's POST.
fn login(port: u16, email: &str, password: &str) -> Response {
    let page = http(port, "GET", "/login", &[], "");
    assert_eq!(page.status, 200);
    let csrf = page.cookie("kap_csrf").expect("pre-session cookie");
    let form = format!(
        "email={}&password={}&csrf_token={csrf}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    http(
        port,
        "POST",
        "/login",
        &[
            ("Cookie", &format!("kap_csrf={csrf}")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form,
    )
}

/// What a minimal SMTP server on loopback was given: each message's recipients and text.
type Mail = Arc<Mutex<Vec<(Vec<String>, String)>>>;

fn smtp_sink() -> (u16, Mail) {
    let port = free_port();
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind sink");
    let mail: Mail = Arc::default();
    let kept = mail.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || smtp_session(conn, &kept));
        }
    });
    (port, mail)
}

fn smtp_session(conn: TcpStream, kept: &Mail) {
    let mut w = conn.try_clone().expect("clone");
    let mut lines = BufReader::new(conn).lines();
    let _ = w.write_all(b"220 sink ready\r\n");
    let (mut to, mut text, mut in_data) = (vec![], String::new(), false);
    while let Some(Ok(line)) = lines.next() {
        if in_data {
            if line == "." {
                in_data = false;
                kept.lock()
                    .expect("sink")
                    .push((std::mem::take(&mut to), std::mem::take(&mut text)));
                let _ = w.write_all(b"250 queued\r\n");
            } else {
                text.push_str(&line);
                text.push('\n');
            }
            continue;
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink\r\n",
            "RCPT" => {
                let addr = line
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_owned())
                    .unwrap_or_default();
                to.push(addr);
                b"250 ok\r\n"
            }
            "DATA" => {
                in_data = true;
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                let _ = w.write_all(b"221 bye\r\n");
                break;
            }
            _ => b"250 ok\r\n",
        };
        if w.write_all(reply).is_err() {
            break;
        }
    }
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kapstone-scale-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A store over the servers' database with their audit key, for setting things up the way a
/// third process would (and writing audit rows of its own into the same chain).
fn store(rt: &tokio::runtime::Runtime, dir: &Path, url: &str) -> kap_store::Store {
    let hex = std::fs::read_to_string(dir.join("audit.key")).expect("audit key");
    let key = kap_domain::audit::AuditKey::from_hex(hex.trim()).expect("key");
    rt.block_on(async {
        kap_store::Store::new(kap_store::Db::connect(url).await.expect("open"), key)
    })
}

#[test]
#[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
fn two_processes_over_one_database_share_sessions_throttling_the_chain_and_the_work() {
    use kap_domain::audit::Actor;
    let db = TestDb::create();
    let dir = temp_dir();
    kapstone(&dir, &db.url, &["migrate"], None);
    for email in ["ada@clinic.example", "bo@clinic.example"] {
        let add = ["user", "add", "--email", email, "--role", "coordinator"];
        kapstone(&dir, &db.url, &add, Some(PASSWORD));
    }
    let token = String::from_utf8(
        kapstone(
            &dir,
            &db.url,
            &["token", "create", "--email", "ada@clinic.example"],
            None,
        )
        .stdout,
    )
    .expect("token")
    .trim()
    .to_owned();
    let (smtp_port, mail) = smtp_sink();
    let a = Server::start(&dir, &db.url, smtp_port, "a");
    let b = Server::start(&dir, &db.url, smtp_port, "b");

    // A session made on A works on B: sessions live in the database.
    let done = login(a.port, "ada@clinic.example", PASSWORD);
    assert_eq!(done.status, 303, "{}", done.body);
    let session = done.cookie("kap_session").expect("session cookie");
    let cookie = format!("kap_session={session}");
    let home = http(b.port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(home.status, 200, "the session made on A is good on B");
    let anonymous = http(b.port, "GET", "/", &[], "");
    assert_ne!(anonymous.status, 200, "B asks anyone else to log in");

    // Failed logins on A and B count together: three on A and two on B reach the limit of
    // five, and the next attempt is refused even with the right password.
    for port in [a.port, b.port, a.port, b.port, a.port] {
        let r = login(port, "bo@clinic.example", "wrong password");
        assert_eq!(r.status, 401, "a failed login: {}", r.body);
    }
    let locked = login(b.port, "bo@clinic.example", PASSWORD);
    assert_eq!(locked.status, 429, "{}", locked.body);

    // Concurrent audited reads split across both processes.
    // The store's pool lives on one runtime for the whole test.
    let rt = rt();
    let st = store(&rt, &dir, &db.url);
    let clinic = rt.block_on(st.default_clinic()).expect("default clinic").id;
    let patient_form = |name: &str, email: &str| {
        kap_domain::patient::PatientForm {
            full_name: name.into(),
            date_of_birth: "1980-01-01".into(),
            email: email.into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("details")
    };
    let read_me = rt
        .block_on(st.create_patient(
            &Actor::system(),
            clinic,
            &patient_form("Read Often", "read.often@example.org"),
        ))
        .expect("patient");
    let before = db.scalar("SELECT COUNT(*) FROM audit_event");
    const THREADS: usize = 8;
    const READS: usize = 40;
    let path = format!("/api/v1/patients/{read_me}");
    let bearer = format!("Bearer {token}");
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (path, bearer) = (&path, &bearer);
            let ports = [a.port, b.port];
            s.spawn(move || {
                for i in 0..READS {
                    let r = http(
                        ports[(t + i) % 2],
                        "GET",
                        path,
                        &[("Authorization", bearer)],
                        "",
                    );
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            });
        }
    });
    let after = db.scalar("SELECT COUNT(*) FROM audit_event");
    assert!(
        after - before >= (THREADS * READS) as i64,
        "every read is audited: {before} → {after}"
    );

    // Background work: due schedules for patients with email, fired by whichever worker gets
    // there first, and their messages delivered by whichever claims them.
    const PATIENTS: usize = 10;
    let ins = kap_domain::instruments::by_code("phq9").expect("phq9");
    let mut expected = BTreeMap::new();
    for i in 0..PATIENTS {
        let email = format!("patient{i}@example.org");
        let pid = rt
            .block_on(st.create_patient(
                &Actor::system(),
                clinic,
                &patient_form(&format!("Sched Patient{i}"), &email),
            ))
            .expect("patient");
        rt.block_on(st.add_schedule(&Actor::system(), clinic, pid, ins, Some(7)))
            .expect("schedule");
        rt.block_on(st.add_checkin_schedule(
            &Actor::system(),
            clinic,
            pid,
            &kap_domain::checkin::schedule::NewSchedule {
                kind: kap_domain::checkin::ScheduleKind::EveryDays,
                days: 7,
                instrument: None,
            },
        ))
        .expect("check-in schedule");
        expected.insert(email, 2);
    }
    let messages = 2 * PATIENTS as i64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'") < messages {
        assert!(
            Instant::now() < deadline,
            "messages not delivered; outbox: {} rows",
            db.scalar("SELECT COUNT(*) FROM outbox")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A few more rounds of both workers: nothing more is made or sent.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM patient_link"),
        PATIENTS as i64
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM checkin_link"),
        PATIENTS as i64
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM outbox"), messages);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND attempts = 1"),
        messages,
        "each message sent on its first attempt"
    );
    let got = mail.lock().expect("sink").clone();
    let mut per_recipient = BTreeMap::new();
    for (to, text) in &got {
        assert_eq!(to.len(), 1, "{to:?}");
        assert!(text.contains("/p/") || text.contains("/k/"), "{text}");
        *per_recipient.entry(to[0].clone()).or_insert(0) += 1;
    }
    assert_eq!(
        got.len(),
        messages as usize,
        "each message delivered exactly once"
    );
    assert_eq!(per_recipient, expected);

    // One chain, one gap-free sequence, after appends from two servers and this process.
    drop(a);
    drop(b);
    rt.block_on(st.db.close());
    let rows = db.scalar("SELECT COUNT(*) FROM audit_event");
    assert_eq!(db.scalar("SELECT MIN(seq) FROM audit_event"), 1);
    assert_eq!(db.scalar("SELECT MAX(seq) FROM audit_event"), rows);
    let verify = kapstone(&dir, &db.url, &["audit", "verify"], None);
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains("Audit trail intact"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
