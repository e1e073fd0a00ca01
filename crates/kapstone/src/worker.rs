//! The background worker inside `serve`: turns due questionnaire schedules into patient links,
//! and delivers queued messages by SMTP when a mail server is configured. Every step is
//! idempotent against the database, so a restart loses nothing: unsent messages stay queued.

use anyhow::Result;
use kap_domain::instruments;
use kap_store::{Actor, Store};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the SMTP transport from a URL such as `smtp://user:pass@mail.example:587?tls=required`
/// or `smtps://mail.example` (lettre's URL form).
pub fn mailer(url: &str) -> Result<Mailer> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build())
}

/// Sends up to `limit` queued messages; returns how many went out.
pub async fn send_pending(
    store: &Store,
    mailer: &Mailer,
    from: &Mailbox,
    limit: i64,
) -> Result<usize> {
    let mut sent = 0;
    for m in store.pending_messages(limit).await? {
        let Some(to) = m
            .to_address
            .as_deref()
            .and_then(|a| a.parse::<Mailbox>().ok())
        else {
            store
                .mark_message(m.id, Some("no valid email address"))
                .await?;
            continue;
        };
        let email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(m.subject.clone())
            .body(m.body.clone())?;
        match mailer.send(email).await {
            Ok(_) => {
                store.mark_message(m.id, None).await?;
                sent += 1;
            }
            Err(e) => {
                // The error text names the server, not the patient.
                tracing::warn!(message = %m.id, error = %e, "email delivery failed; will retry");
                store.mark_message(m.id, Some(&e.to_string())).await?;
            }
        }
    }
    Ok(sent)
}

/// Creates the links of every schedule that is due and moves each schedule on.
pub async fn run_schedules(store: &Store, web: &kap_web::WebConfig) -> Result<usize> {
    let now = kap_store::now();
    let mut made = 0;
    for (clinic_id, created_by, s) in store.due_schedules(now).await? {
        let Some(ins) = instruments::by_code(&s.instrument) else {
            continue;
        };
        let Some(days) = s.every_days else { continue };
        let protocol = store.protocol(clinic_id).await?;
        let clinic = store.clinic(clinic_id).await?;
        let actor = Actor {
            staff_id: (!created_by.is_nil()).then_some(created_by),
            kind: "system",
            clinic_id: Some(clinic_id),
            address: None,
        };
        let base = web.public_url.clone();
        let url_for = move |t: &str| format!("{base}/p/{t}");
        store
            .create_link(
                &actor,
                clinic_id,
                s.patient_id,
                ins,
                instruments::ResponseContext::BetweenSessions,
                chrono::Duration::hours(i64::from(protocol.link_valid_hours)),
                &kap_web::pages::measure::link_message(&clinic.name, ins),
                &url_for,
                web.email_enabled,
            )
            .await?;
        let mut next = s.next_due_at.unwrap_or(now) + chrono::Duration::days(i64::from(days));
        while next <= now {
            next += chrono::Duration::days(i64::from(days));
        }
        store.advance_schedule(s.id, next).await?;
        made += 1;
    }
    Ok(made)
}

/// Runs forever: schedules and mail every `every`.
pub async fn run(
    store: Store,
    web: kap_web::WebConfig,
    mail: Option<(Mailer, Mailbox)>,
    every: std::time::Duration,
) {
    loop {
        if let Err(e) = run_schedules(&store, &web).await {
            tracing::error!(error = %e, "questionnaire schedules failed this round");
        }
        if let Some((m, from)) = &mail
            && let Err(e) = send_pending(&store, m, from, 100).await
        {
            tracing::error!(error = %e, "sending queued messages failed this round");
        }
        tokio::time::sleep(every).await;
    }
}
