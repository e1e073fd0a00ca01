//! `kapstone user add|grant|deactivate|reset-password`: staff accounts from the command line (the first administrator,
//! and people who work in several clinics).

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::{Context, Result, anyhow};
use kap_domain::Role;
use kap_domain::audit::Actor;
use kap_domain::person::{Email, PersonName};
use kap_store::Store;
use kap_store::staff::NewStaff;
use std::io::Read;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Give an existing staff member a role in a clinic (or change it there).
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        /// The clinic's short name.
        #[arg(long)]
        clinic: String,
    },
    /// End a person's access to every clinic of the installation (their account is kept).
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Set a new password for a staff member (read from standard input); their sessions end.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Create a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin, prescriber, nurse, therapist or coordinator.
        #[arg(long)]
        role: String,
        /// The clinic's short name; default: the installation's first clinic.
        #[arg(long)]
        clinic: Option<String>,
        /// Full name as shown in the app; default: the part of the email before @.
        #[arg(long)]
        name: Option<String>,
    },
}

pub async fn run(config: &Config, command: Command) -> Result<ExitCode> {
    let store = open(config, Open::Existing).await?;
    match command {
        Command::Add {
            email,
            role,
            clinic,
            name,
        } => add(&store, &email, &role, clinic.as_deref(), name.as_deref()).await?,
        Command::Grant {
            email,
            role,
            clinic,
        } => grant(&store, &email, &role, &clinic).await?,
        Command::Deactivate { email } => deactivate(&store, &email).await?,
        Command::ResetPassword { email } => reset_password(&store, &email).await?,
    }
    crate::checkpoint::after_command(config, &store).await;
    ok()
}

async fn deactivate(store: &Store, email: &str) -> Result<()> {
    let account = store
        .staff_login(&email.trim().to_lowercase())
        .await?
        .context("no staff account with that email")?;
    store
        .deactivate_account(&Actor::system(), account.id)
        .await?;
    println!(
        "{} can no longer sign in to any clinic; their sessions ended and their API tokens were revoked.",
        account.full_name
    );
    Ok(())
}

/// The password on standard input (one line, its line ending dropped), if strong enough.
fn password_from_stdin(email: &str) -> Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    kap_domain::password::check_strength(&password, email).map_err(|e| anyhow!("password: {e}"))?;
    Ok(password)
}

async fn reset_password(store: &Store, email: &str) -> Result<()> {
    let email = email.trim().to_lowercase();
    let account = store
        .staff_login(&email)
        .await?
        .with_context(|| format!("no staff account with the email {email}"))?;
    let password = password_from_stdin(&email)?;
    let hash = kap_web::http::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    store.reset_password_by_operator(account.id, &hash).await?;
    println!(
        "The password of {} was set; their sessions ended.",
        account.full_name
    );
    Ok(())
}

async fn grant(store: &Store, email: &str, role: &str, clinic: &str) -> Result<()> {
    let role: Role = role.parse()?;
    let account = store
        .staff_login(&email.trim().to_lowercase())
        .await?
        .context("no staff account with that email")?;
    let c = store
        .clinic_by_slug(clinic.trim())
        .await
        .with_context(|| format!("no clinic with short name \"{clinic}\""))?;
    store
        .grant_membership(&Actor::system(), account.id, c.id, role)
        .await?;
    println!(
        "{} is now {} in {}.",
        account.full_name,
        role.label(),
        c.name
    );
    Ok(())
}

async fn add(
    store: &Store,
    email: &str,
    role: &str,
    clinic: Option<&str>,
    name: Option<&str>,
) -> Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow!("email: {e}"))?;
    let role: Role = role.parse()?;
    let clinic = match clinic {
        Some(slug) => store.clinic_by_slug(slug).await.with_context(|| {
            format!("no clinic with short name \"{slug}\" (add it with `kapstone clinic add`)")
        })?,
        None => store.default_clinic().await?,
    };
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("staff")
        .to_owned();
    let name =
        PersonName::parse(name.unwrap_or(&default_name)).map_err(|e| anyhow!("name: {e}"))?;
    let password = password_from_stdin(email.as_str())?;
    let hash = kap_web::http::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    store
        .create_staff(
            &Actor::system(),
            NewStaff {
                email: email.as_str(),
                full_name: name.as_str(),
                password_hash: &hash,
                clinic_id: clinic.id,
                role,
            },
        )
        .await?;
    println!(
        "Added {} ({}) as {} in {}.",
        name,
        email,
        role.label(),
        clinic.name
    );
    Ok(())
}
