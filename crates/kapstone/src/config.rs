//! Configuration: built-in defaults, then a TOML file, then `KAPSTONE_*` environment variables,
//! then command-line flags. Secrets can be read from files (`database_url_file`), so they need
//! not sit in the environment or the config file.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database, the audit key and backups live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`; default: `kapstone.db` in the data directory.
    pub database_url: Option<String>,
    /// A file whose content is the database URL (for URLs with passwords).
    pub database_url_file: Option<PathBuf>,
    /// The audit chain's key file; default: `audit.key` in the data directory.
    pub audit_key_file: Option<PathBuf>,
    /// The address people use to reach Kapstone; `https://…` turns on secure cookies.
    pub public_url: Option<String>,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Log filter, e.g. `info` or `kapstone=debug`.
    pub log: String,
    /// Mail server for patient messages, e.g. `smtp://user:pass@mail.example:587?tls=required`.
    /// Without it, messages wait in the outbox for staff to copy.
    pub smtp_url: Option<String>,
    /// A file holding `smtp_url` (it contains a password).
    pub smtp_url_file: Option<PathBuf>,
    /// Sender of patient messages, e.g. `Riverside Clinic <care@riverside.example>`.
    pub mail_from: Option<String>,
    /// Reverse proxies (addresses or CIDR ranges) whose `Forwarded` / `X-Forwarded-For`
    /// headers are believed; from anyone else they are ignored.
    pub trusted_proxies: Vec<String>,
    /// Where signed checkpoints of the audit chain's head are appended; default: beside the
    /// audit key (`audit.checkpoints`).
    pub audit_checkpoint_file: Option<PathBuf>,
    /// An external witness that also receives each checkpoint: `syslog` (the local syslog
    /// socket, /dev/log) or `udp://host:port` (a remote syslog collector).
    pub audit_witness: Option<String>,
    /// The installation's time zone (IANA name), for clinics that have not set their own.
    pub time_zone: String,
    /// Seconds between the background worker's rounds (schedules, reminders, mail,
    /// checkpoints) in `serve`.
    pub worker_interval_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("kapstone-data"),
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            database_url_file: None,
            audit_key_file: None,
            public_url: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            log: "info".into(),
            smtp_url: None,
            smtp_url_file: None,
            mail_from: None,
            trusted_proxies: vec![],
            audit_checkpoint_file: None,
            audit_witness: None,
            time_zone: "UTC".into(),
            worker_interval_seconds: 30,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(kap_store::redact_url),
            )
            .field("database_url_file", &self.database_url_file)
            .field("audit_key_file", &self.audit_key_file)
            .field("public_url", &self.public_url)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(kap_store::redact_url),
            )
            .field("mail_from", &self.mail_from)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("audit_checkpoint_file", &self.audit_checkpoint_file)
            .field("audit_witness", &self.audit_witness)
            .field("time_zone", &self.time_zone)
            .field("worker_interval_seconds", &self.worker_interval_seconds)
            .finish_non_exhaustive()
    }
}

/// Values given on the command line (only those present override).
#[derive(Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    /// Reads the configuration: `file` if given (it must exist), else `kapstone.toml` in the
    /// working directory if present.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, String> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) if !f.exists() => {
                return Err(format!("config file {} does not exist", f.display()));
            }
            Some(f) => fig = fig.merge(Toml::file(f)),
            None => fig = fig.merge(Toml::file("kapstone.toml")),
        }
        fig = fig
            .merge(Env::prefixed("KAPSTONE_").only(&[
                "data_dir",
                "listen",
                "database_url",
                "database_url_file",
                "audit_key_file",
                "public_url",
                "session_idle_minutes",
                "session_absolute_hours",
                "log",
                "smtp_url",
                "smtp_url_file",
                "mail_from",
                "trusted_proxies",
                "audit_checkpoint_file",
                "audit_witness",
                "time_zone",
                "worker_interval_seconds",
            ]))
            .merge(Serialized::defaults(overrides));
        let mut c: Config = fig.extract().map_err(|e| e.to_string())?;
        if c.database_url.is_none()
            && let Some(f) = &c.database_url_file
        {
            let url = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read database_url_file {}: {e}", f.display()))?;
            c.database_url = Some(url.trim().to_owned());
        }
        Ok(c)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("kapstone.db").display()))
    }

    pub fn audit_key_path(&self) -> PathBuf {
        self.audit_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit.key"))
    }

    /// The checkpoint file: as set, else beside the audit key.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.audit_checkpoint_file.clone().unwrap_or_else(|| {
            self.audit_key_path().parent().map_or_else(
                || PathBuf::from("audit.checkpoints"),
                |d| d.join("audit.checkpoints"),
            )
        })
    }

    /// The SQLite database file, if the database is SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.database_url()
            .strip_prefix("sqlite://")
            .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)))
    }

    /// The mail server URL, from the setting or its file.
    pub fn smtp_url(&self) -> Result<Option<String>, anyhow::Error> {
        if let Some(u) = &self.smtp_url {
            return Ok(Some(u.clone()));
        }
        match &self.smtp_url_file {
            Some(f) => Ok(Some(
                std::fs::read_to_string(f)
                    .map_err(|e| anyhow::anyhow!("cannot read smtp_url_file {}: {e}", f.display()))?
                    .trim()
                    .to_owned(),
            )),
            None => Ok(None),
        }
    }

    /// Where patients reach the app: `public_url`, else the listen address.
    pub fn public_base(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_need_nothing() {
        Jail::expect_with(|_| {
            let c = Config::load(None, Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:8080");
            assert_eq!(c.database_url(), "sqlite://kapstone-data/kapstone.db");
            assert!(!c.secure_cookies());
            Ok(())
        });
    }

    #[test]
    fn file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            jail.create_file("kapstone.toml", "listen = \"0.0.0.0:9000\"\nsession_idle_minutes = 10\npublic_url = \"https://kap.example.org\"")?;
            jail.set_env("KAPSTONE_SESSION_IDLE_MINUTES", "20");
            let c = Config::load(None, Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.session_idle_minutes, 20);
            assert!(c.secure_cookies());
            let c = Config::load(
                None,
                Overrides {
                    listen: Some("127.0.0.1:1".into()),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:1");
            Ok(())
        });
    }

    #[test]
    fn secrets_come_from_files_and_are_redacted() {
        Jail::expect_with(|jail| {
            jail.create_file("db-url", "postgres://kap:hunter2@db/kap\n")?;
            jail.set_env("KAPSTONE_DATABASE_URL_FILE", "db-url");
            let c = Config::load(None, Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.database_url(), "postgres://kap:hunter2@db/kap");
            assert!(!format!("{c:?}").contains("hunter2"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("kapstone.toml", "listne = \"x\"")?;
            assert!(Config::load(None, Overrides::default()).is_err());
            Ok(())
        });
    }
}
