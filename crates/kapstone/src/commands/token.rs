//! `kapstone token create`: an API token for a staff member, printed once on standard output
//! (so `t=$(kapstone token create …)` works); everything else goes to standard error.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use kap_domain::audit::Actor;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an API token for a staff member and print it (shown once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "created on the command line")]
        label: String,
    },
}

pub async fn run(config: &Config, command: Command) -> Result<ExitCode> {
    let Command::Create { email, label } = command;
    let store = open(config, Open::Existing).await?;
    let email = email.trim().to_lowercase();
    let account = store
        .staff_login(&email)
        .await?
        .context("no staff account with that email")?;
    if !account.active {
        bail!("that account is deactivated");
    }
    let (clinic, _) = store
        .memberships(account.id)
        .await?
        .into_iter()
        .next()
        .context("that account belongs to no clinic")?;
    let (_, raw) = store
        .create_api_token(&Actor::system(), account.id, clinic.id, &label)
        .await?;
    println!("{raw}");
    crate::checkpoint::after_command(config, &store).await;
    eprintln!(
        "API token for {email} in {}: shown once; store it safely.",
        clinic.name
    );
    ok()
}
