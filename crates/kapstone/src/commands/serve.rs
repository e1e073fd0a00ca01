//! `kapstone serve`: the web application and its background worker, until Ctrl-C or SIGTERM.

use super::{Open, ok, open};
use crate::checkpoint::Checkpointer;
use crate::config::Config;
use crate::demo::DemoLogins;
use crate::worker;
use anyhow::{Context, Result};
use kap_store::Store;
use kap_store::session::SessionPolicy;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<String>,
}

pub async fn run(config: &Config) -> Result<ExitCode> {
    let store = open(config, Open::CreateAndMigrate).await?;
    if store.count_staff().await? == 0 {
        println!("No staff accounts yet. Create the first administrator with:");
        println!(
            "  kapstone user add --email you@clinic.example --role admin --name \"Your Name\""
        );
    }
    serve(config, store, None).await?;
    ok()
}

/// Serves the app (and runs the worker) until shutdown; prints the demo logins when given.
pub async fn serve(config: &Config, store: Store, demo: Option<DemoLogins>) -> Result<()> {
    let mail = match config.smtp_url()? {
        Some(url) => {
            let from: lettre::message::Mailbox = config
                .mail_from
                .as_deref()
                .unwrap_or("Kapstone <kapstone@localhost>")
                .parse()
                .context("mail_from is not a valid address")?;
            Some((worker::mailer(&url)?, from))
        }
        None => None,
    };
    let trusted_proxies = kap_web::http::client::parse_trusted(&config.trusted_proxies)
        .map_err(anyhow::Error::msg)?;
    warn_if_key_beside_database(config);
    let mut checkpoints = Checkpointer::new(config, store.audit_key())?;
    checkpoints.checkpoint(&store).await?;
    let web = kap_web::WebConfig {
        secure_cookies: config.secure_cookies(),
        public_url: config.public_base(),
        email_enabled: mail.is_some(),
        trusted_proxies,
        time_zone: kap_domain::time::TimeZone::parse(&config.time_zone)
            .map_err(|e| anyhow::anyhow!("time_zone: {e}"))?,
        session: SessionPolicy {
            idle: chrono::Duration::minutes(config.session_idle_minutes),
            absolute: chrono::Duration::hours(config.session_absolute_hours),
        },
        ..kap_web::WebConfig::default()
    };
    let app = kap_web::app(store.clone(), web.clone());
    let worker = tokio::spawn(worker::run(
        store.clone(),
        web,
        mail,
        checkpoints,
        std::time::Duration::from_secs(config.worker_interval_seconds.max(1)),
    ));
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "Kapstone is running at http://{addr}/ ({} database)",
        store.db.backend()
    );
    if let Some(logins) = demo {
        println!();
        println!("Demo clinic logins (one password for all, new each run):");
        for (email, role) in &logins.accounts {
            println!("  {:<12} {email}", role.label());
        }
        println!("  password:    {}", logins.password);
        println!("The public contact form is at http://{addr}/contact");
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    worker.abort();
    // The last word: a checkpoint of the head as it stands at shutdown.
    crate::checkpoint::after_command(config, &store).await;
    store.db.close().await;
    Ok(())
}

/// Whoever copies the data directory gets the database; if the audit key is in it too, they can
/// rebuild the chain. Say so at every start (docs/security.md explains where to keep the key).
fn warn_if_key_beside_database(config: &Config) {
    let Some(db) = config.sqlite_path() else {
        return;
    };
    let dir_of = |p: &std::path::Path| {
        p.parent()
            .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()))
    };
    if dir_of(&db) == dir_of(&config.audit_key_path()) {
        tracing::warn!(
            key = %config.audit_key_path().display(),
            "the audit key is in the same directory as the database: someone who copies that directory can rewrite the audit trail undetected. Keep the key (audit_key_file) and the checkpoints elsewhere; see docs/security.md"
        );
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
