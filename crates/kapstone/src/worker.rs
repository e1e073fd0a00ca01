//! The background worker inside `serve`: turns due questionnaire and check-in schedules into
//! patient links, and delivers queued messages by SMTP when a mail server is configured. Every step is
//! idempotent against the database, so a restart loses nothing: unsent messages stay queued.

use anyhow::Result;
use kap_store::Store;
use kap_store::measure::schedule::LinkDelivery;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the SMTP transport from a URL such as `smtp://user:pass@mail.example:587?tls=required`
/// or `smtps://mail.example` (lettre's URL form). Each command waits at most 30 s, so one send
/// ends well inside its claim ([`kap_store::lease::MESSAGE_LEASE`]).
pub fn mailer(url: &str) -> Result<Mailer> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build())
}

/// Messages claimed at a time: a small batch, so that one process does not hold mail another
/// could be sending.
const CLAIM_BATCH: i64 = 20;

/// Sends up to `limit` queued messages as `holder`; returns how many went out. Each message is
/// claimed before it is sent and its claim renewed just before the send, so several processes
/// running this at once never send one message twice; a message whose sender died is claimed
/// again once its lease runs out. The one window left is a process dying after the mail server
/// took a message and before it was recorded sent: that message goes out again (SMTP offers no
/// way to ask the server whether it has it).
pub async fn send_pending(
    store: &Store,
    mailer: &Mailer,
    from: &Mailbox,
    holder: &str,
    limit: i64,
) -> Result<usize> {
    let lease = kap_store::lease::MESSAGE_LEASE;
    let mut sent = 0;
    let mut seen = 0;
    let result = async {
        while seen < limit {
            let batch = store
                .claim_messages(holder, kap_store::now(), lease, CLAIM_BATCH.min(limit - seen))
                .await?;
            if batch.is_empty() {
                break;
            }
            seen += batch.len() as i64;
            for m in batch {
                let Some(to) = m
                    .to_address
                    .as_deref()
                    .and_then(|a| a.parse::<Mailbox>().ok())
                else {
                    store
                        .mark_message(m.id, holder, Some("no valid email address"))
                        .await?;
                    continue;
                };
                if !store
                    .renew_message(m.id, holder, kap_store::now(), lease)
                    .await?
                {
                    // Another process holds it now (or has sent it): it is theirs to send.
                    continue;
                }
                let email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(m.subject.clone())
                    .body(m.body.clone())?;
                match mailer.send(email).await {
                    Ok(_) => {
                        if !store.mark_message(m.id, holder, None).await? {
                            tracing::warn!(message = %m.id, "message was already recorded sent by another process");
                        }
                        sent += 1;
                    }
                    Err(e) => {
                        // The error text names the server, not the patient.
                        tracing::warn!(message = %m.id, error = %e, "email delivery failed; will retry");
                        store
                            .mark_message(m.id, holder, Some(&e.to_string()))
                            .await?;
                    }
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    // Whatever this round did not get to is given back at once, not when its lease runs out.
    let released = store.release_messages(holder).await;
    result?;
    released?;
    Ok(sent)
}

/// Fires every due schedule: its link is made and the schedule moved on, in one transaction
/// each; sends the links owed before appointments; and carries out check-in schedules (every N
/// days while a course is active, N days after each dosing session). Returns how many links
/// were made.
pub async fn run_schedules(store: &Store, web: &kap_web::WebConfig) -> Result<usize> {
    let now = kap_store::now();
    let deliver = LinkDelivery {
        public_url: &web.public_url,
        email_enabled: web.email_enabled,
    };
    // "Before appointment" schedules: one link per appointment, its hours before.
    let mut made = store.send_before_appointment_links(now, deliver).await?;
    for s in store.due_schedules(now).await? {
        let settings = store.measurement_settings(s.clinic_id).await?;
        if store
            .fire_schedule(&s, now, settings.link_valid_for(), deliver)
            .await?
        {
            made += 1;
        }
    }
    made += store.run_checkin_schedules(now, deliver).await?;
    Ok(made)
}

/// Runs forever: schedules, reminders, mail and an audit checkpoint every `every`. Every
/// `serve` process runs this; over one database each piece of work is still done once (see
/// `kap_store::lease`), and each process writes its own checkpoints (see `checkpoint`).
pub async fn run(
    store: Store,
    web: kap_web::WebConfig,
    mail: Option<(Mailer, Mailbox)>,
    mut checkpoints: crate::checkpoint::Checkpointer,
    every: std::time::Duration,
) {
    let holder = kap_store::lease::holder_name();
    loop {
        if let Err(e) = checkpoints.checkpoint(&store).await {
            tracing::error!(error = %e, "audit checkpoint failed this round");
        }
        if let Err(e) = run_schedules(&store, &web).await {
            tracing::error!(error = %e, "questionnaire schedules failed this round");
        }
        if let Err(e) = store
            .queue_reminders(web.email_enabled, web.time_zone)
            .await
        {
            tracing::error!(error = %e, "questionnaire reminders failed this round");
        }
        if let Some((m, from)) = &mail
            && let Err(e) = send_pending(&store, m, from, &holder, 100).await
        {
            tracing::error!(error = %e, "sending queued messages failed this round");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kap_domain::Role;
    use kap_domain::audit::{Actor, ActorKind};
    use kap_domain::instruments::{self, ResponseContext};
    use kap_domain::measure::OutboxStatus;
    use kap_store::measure::link::NewLink;
    use kap_store::staff::NewStaff;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A minimal SMTP server on loopback that keeps what it is given.
    async fn smtp_sink() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.expect("accept");
            let (r, mut w) = sock.into_split();
            let mut lines = BufReader::new(r).lines();
            let mut received = String::new();
            w.write_all(b"220 sink ready\r\n").await.expect("greet");
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        w.write_all(b"250 queued\r\n").await.expect("w");
                    } else {
                        received.push_str(&line);
                        received.push('\n');
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
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        w.write_all(b"221 bye\r\n").await.expect("w");
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                w.write_all(reply).await.expect("w");
            }
            received
        });
        (port, task)
    }

    #[tokio::test]
    async fn queued_links_are_emailed_through_smtp() {
        let store = kap_store::testing::store("sqlite").await.expect("store");
        let clinic = store.default_clinic().await.expect("clinic");
        let staff = store
            .create_staff(
                &Actor::system(),
                NewStaff {
                    email: "c@x.example",
                    full_name: "Cora",
                    password_hash: "h",
                    clinic_id: clinic.id,
                    role: Role::Coordinator,
                },
            )
            .await
            .expect("staff");
        let actor = Actor::staff(staff, ActorKind::Staff, clinic.id, None);
        let details = kap_domain::patient::PatientForm {
            full_name: "Mail Patient".into(),
            date_of_birth: "1980-01-01".into(),
            email: "mail.patient@example.org".into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("details");
        let pid = store
            .create_patient(&actor, clinic.id, &details)
            .await
            .expect("patient");
        let ins = instruments::by_code("phq9").expect("phq9");
        store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic.id,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    valid_for: chrono::Duration::hours(72),
                    public_url: "https://kap.example",
                    email_enabled: true,
                },
            )
            .await
            .expect("link");
        let (port, sink) = smtp_sink().await;
        let m = mailer(&format!("smtp://127.0.0.1:{port}")).expect("mailer");
        let from: Mailbox = "Clinic <care@clinic.example>".parse().expect("from");
        assert_eq!(
            send_pending(&store, &m, &from, "test", 10)
                .await
                .expect("send"),
            1
        );
        drop(m);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), sink)
            .await
            .expect("sink done")
            .expect("sink");
        assert!(got.contains("mail.patient@example.org"), "{got}");
        assert!(got.contains("https://kap.example/p/"), "{got}");
        let out = store.outbox(&actor, clinic.id).await.expect("outbox");
        assert_eq!(out[0].status, OutboxStatus::Sent);
        assert!(
            out[0].body.contains("/p/[link used or sent; removed]"),
            "the kept copy holds no usable link"
        );
        assert!(
            store
                .pending_messages(10)
                .await
                .expect("pending")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn due_schedules_become_links_and_move_on() {
        let store = kap_store::testing::store("sqlite").await.expect("store");
        let clinic = store.default_clinic().await.expect("clinic");
        let details = kap_domain::patient::PatientForm {
            full_name: "Sched Patient".into(),
            date_of_birth: "1980-01-01".into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("details");
        let pid = store
            .create_patient(&Actor::system(), clinic.id, &details)
            .await
            .expect("patient");
        let ins = instruments::by_code("phq9").expect("phq9");
        store
            .add_schedule(&Actor::system(), clinic.id, pid, ins, Some(7))
            .await
            .expect("schedule");
        let web = kap_web::WebConfig::default();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(run_schedules(&store, &web).await.expect("run"), 1);
        assert_eq!(
            run_schedules(&store, &web).await.expect("run"),
            0,
            "not due again for a week"
        );
        assert_eq!(
            store.links_of(clinic.id, pid).await.expect("links").len(),
            1
        );
        let s = &store.schedules_of(clinic.id, pid).await.expect("schedules")[0];
        assert!(s.next_due_at.expect("next") > kap_store::now() + chrono::Duration::days(6));
    }

    #[tokio::test]
    async fn due_checkin_schedules_become_checkin_links() {
        let store = kap_store::testing::store("sqlite").await.expect("store");
        let clinic = store.default_clinic().await.expect("clinic");
        let details = kap_domain::patient::PatientForm {
            full_name: "Checkin Patient".into(),
            date_of_birth: "1980-01-01".into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("details");
        let pid = store
            .create_patient(&Actor::system(), clinic.id, &details)
            .await
            .expect("patient");
        store
            .add_checkin_schedule(
                &Actor::system(),
                clinic.id,
                pid,
                &kap_domain::checkin::schedule::NewSchedule {
                    kind: kap_domain::checkin::ScheduleKind::EveryDays,
                    days: 7,
                    instrument: None,
                },
            )
            .await
            .expect("schedule");
        let web = kap_web::WebConfig::default();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(run_schedules(&store, &web).await.expect("run"), 1);
        assert_eq!(run_schedules(&store, &web).await.expect("run"), 0);
        let links = store.checkin_links_of(clinic.id, pid).await.expect("links");
        assert_eq!(links.len(), 1);
        let out = store
            .outbox(&Actor::system(), clinic.id)
            .await
            .expect("outbox");
        assert!(out[0].body.contains(&format!("{}/k/", web.public_url)));
    }
}
