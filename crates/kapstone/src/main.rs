//! `kapstone`: the one binary — serve the clinic, seed a demo, migrate, manage staff and tokens,
//! verify the audit chain, back up.

mod config;
mod demo;
mod worker;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use kap_domain::Role;
use kap_domain::audit::AuditKey;
use kap_store::{Actor, Db, Store};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run with a seeded demo clinic: staff of every role and synthetic patients.
    Demo {
        #[arg(long)]
        listen: Option<String>,
        /// How many synthetic patients to create.
        #[arg(long, default_value_t = 300)]
        patients: usize,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Clinics (sites) of this installation.
    Clinic {
        #[command(subcommand)]
        command: ClinicCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent copy of the SQLite database.
    Backup {
        /// Destination file (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
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

#[derive(Subcommand)]
enum ClinicCommand {
    /// Add a clinic (site).
    Add {
        #[arg(long)]
        name: String,
        /// Short name used in URLs and on the command line.
        #[arg(long)]
        slug: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a staff member and print it (shown once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "created on the command line")]
        label: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exit non-zero naming the first broken row.
    Verify,
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

async fn run() -> Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen, .. } => listen.clone(),
        _ => None,
    };
    let demo = matches!(cli.command, Command::Demo { .. });
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        database_url: cli.database_url.clone(),
    };
    if demo && overrides.database_url.is_none() {
        // The demo never touches the real clinic database.
        let dir = cli
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("kapstone-data"));
        overrides.database_url = Some(format!("sqlite://{}", dir.join("demo.db").display()));
    }
    let config = Config::load(cli.config.as_deref(), overrides).map_err(anyhow::Error::msg)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();

    match cli.command {
        Command::Serve { .. } => {
            let store = open(&config, true).await?;
            if store.count_staff().await? == 0 {
                println!("No staff accounts yet. Create the first administrator with:");
                println!(
                    "  kapstone user add --email you@clinic.example --role admin --name \"Your Name\""
                );
            }
            serve(&config, store, None).await?;
        }
        Command::Demo { patients, .. } => {
            if cli.database_url.is_none() {
                remove_sqlite_files(&config.data_dir.join("demo.db"))?;
            }
            let store = open(&config, true).await?;
            let logins = demo::seed(&store, patients).await?;
            serve(&config, store, Some(logins)).await?;
        }
        Command::Migrate => {
            let store = open(&config, true).await?;
            println!("Database is up to date ({}).", store.db.backend());
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    clinic,
                    name,
                },
        } => {
            let store = open(&config, true).await?;
            add_user(&store, &email, &role, clinic.as_deref(), name.as_deref()).await?;
        }
        Command::User {
            command:
                UserCommand::Grant {
                    email,
                    role,
                    clinic,
                },
        } => {
            let store = open(&config, true).await?;
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
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
        }
        Command::Clinic {
            command: ClinicCommand::Add { name, slug },
        } => {
            let store = open(&config, true).await?;
            let c = store.create_clinic(name.trim(), slug.trim()).await?;
            println!("Clinic \"{}\" added (short name {}).", c.name, c.slug);
        }
        Command::Token {
            command: TokenCommand::Create { email, label },
        } => {
            let store = open(&config, true).await?;
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
            eprintln!(
                "API token for {email} in {}: shown once; store it safely.",
                clinic.name
            );
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let key_path = config.audit_key_path();
            if !key_path.exists() {
                bail!(
                    "audit key {} not found: the chain cannot be verified without it",
                    key_path.display()
                );
            }
            let store = open(&config, false).await?;
            let v = store.verify_audit().await?;
            match v.broken {
                None => println!("Audit trail intact: {} rows verified.", v.rows),
                Some(b) => {
                    println!("AUDIT TRAIL BROKEN at row {}: {b}", b.seq());
                    println!("{} rows before it verified.", v.rows);
                    return Ok(std::process::ExitCode::from(1));
                }
            }
        }
        Command::Backup { to } => {
            let store = open(&config, false).await?;
            match &store.db {
                Db::Sqlite(..) => {
                    if to.exists() {
                        bail!("{} already exists; choose a new file", to.display());
                    }
                    store.db.backup_sqlite(&to.display().to_string()).await?;
                    println!("Backup written to {}.", to.display());
                    println!(
                        "Keep the audit key ({}) safe as well: the audit trail cannot be verified without it.",
                        config.audit_key_path().display()
                    );
                }
                Db::Postgres(_) => {
                    println!("PostgreSQL is backed up with its own tools, for example:");
                    println!(
                        "  pg_dump --format=custom --file={} \"$DATABASE_URL\"",
                        to.display()
                    );
                    println!(
                        "and restored with pg_restore. Keep the audit key ({}) with the backup.",
                        config.audit_key_path().display()
                    );
                }
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn remove_sqlite_files(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

/// Reads the audit key, creating it (readable by the owner only) if `create` and it is absent.
fn audit_key(config: &Config, create: bool) -> Result<AuditKey> {
    let path = config.audit_key_path();
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return AuditKey::from_hex(&text)
            .with_context(|| format!("{} is not a valid audit key", path.display()));
    }
    if !create {
        bail!("audit key {} not found", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = AuditKey::from_hex(&kap_store::random_hex(32)).context("generating the audit key")?;
    write_private(&path, &key.to_hex())?;
    tracing::info!(
        "created audit key {}; back it up apart from the database",
        path.display()
    );
    Ok(key)
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

async fn open(config: &Config, migrate: bool) -> Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let url = config.database_url();
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("opening database {}", kap_store::redact_url(&url)))?;
    if migrate {
        db.migrate().await.context("migrating the database")?;
    }
    let store = Store::new(db, audit_key(config, migrate)?);
    if migrate {
        store.default_clinic().await?;
    }
    Ok(store)
}

async fn add_user(
    store: &Store,
    email: &str,
    role: &str,
    clinic: Option<&str>,
    name: Option<&str>,
) -> Result<()> {
    let email =
        kap_domain::person::Email::parse(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let name = kap_domain::person::PersonName::parse(name.unwrap_or(&default_name))
        .map_err(|e| anyhow::anyhow!("name: {e}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    kap_domain::password::check_strength(&password, email.as_str())
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let hash = kap_web::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    store
        .create_staff(
            &Actor::system(),
            email.as_str(),
            name.as_str(),
            &hash,
            clinic.id,
            role,
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

async fn serve(config: &Config, store: Store, demo_logins: Option<demo::DemoLogins>) -> Result<()> {
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
        session: kap_store::staff::SessionPolicy {
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
    if let Some(logins) = demo_logins {
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
