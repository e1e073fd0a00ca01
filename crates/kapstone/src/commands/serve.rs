//! `kapstone serve`: the web application and its background worker, until Ctrl-C or SIGTERM.

use super::{Open, ok, open};
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
    let web = kap_web::WebConfig {
        secure_cookies: config.secure_cookies(),
        public_url: config.public_base(),
        email_enabled: mail.is_some(),
        session: SessionPolicy {
            idle: chrono::Duration::minutes(config.session_idle_minutes),
            absolute: chrono::Duration::hours(config.session_absolute_hours),
        },
        ..kap_web::WebConfig::default()
    };
    let app = kap_web::app(store.clone(), web.clone());
    tokio::spawn(worker::run(
        store.clone(),
        web,
        mail,
        std::time::Duration::from_secs(30),
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
    store.db.close().await;
    Ok(())
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
