//! `kapstone`: the one binary — serve the clinic, run a demo, migrate, manage staff, clinics and
//! tokens, verify the audit chain, back up. One module per command under `commands/`.

mod checkpoint;
mod commands;
mod config;
mod demo;
mod worker;

use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "kapstone",
    version,
    about = "Clinical software for ketamine-assisted psychotherapy clinics"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./kapstone.toml if present.
    #[arg(long, global = true, env = "KAPSTONE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, audit key).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://path or postgres://user@host/db.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application.
    Serve(commands::serve::Args),
    /// Run with a fresh demo clinic: staff of every role and synthetic patients.
    Demo(commands::demo::Args),
    /// Bring the database schema up to date.
    Migrate,
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: commands::user::Command,
    },
    /// Clinics (sites) of this installation.
    Clinic {
        #[command(subcommand)]
        command: commands::clinic::Command,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: commands::token::Command,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: commands::audit::Command,
    },
    /// Write a consistent copy of the SQLite database (optionally encrypted with age).
    Backup(commands::backup::Args),
    /// Put an SQLite backup in place of the database (never deleting what was there).
    Restore(commands::restore::Args),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kapstone: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<std::process::ExitCode> {
    // Everything Kapstone creates — database, its journal, backups, the audit key, the
    // checkpoint file, data directories — is for the owner only (0600 files, 0700 directories).
    // SAFETY: umask only sets this process's file-creation mask; it has no preconditions.
    #[cfg(unix)]
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve(a) => a.listen.clone(),
        Command::Demo(a) => a.listen.clone(),
        _ => None,
    };
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        database_url: cli.database_url.clone(),
    };
    if matches!(cli.command, Command::Demo(_)) && overrides.data_dir.is_none() {
        // The demo keeps its clinic in a directory of its own, never beside a real one.
        overrides.data_dir = Some(PathBuf::from(commands::demo::DATA_DIR));
    }
    let config = Config::load(cli.config.as_deref(), overrides).map_err(anyhow::Error::msg)?;
    // Logs go to standard error: standard output is for what a command answers (a token, say).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match cli.command {
        Command::Serve(_) => commands::serve::run(&config).await,
        Command::Demo(a) => commands::demo::run(&config, a, cli.database_url.is_some()).await,
        Command::Migrate => commands::migrate::run(&config).await,
        Command::User { command } => commands::user::run(&config, command).await,
        Command::Clinic { command } => commands::clinic::run(&config, command).await,
        Command::Token { command } => commands::token::run(&config, command).await,
        Command::Audit { command } => commands::audit::run(&config, command).await,
        Command::Backup(a) => commands::backup::run(&config, a).await,
        Command::Restore(a) => commands::restore::run(&config, a).await,
    }
}
