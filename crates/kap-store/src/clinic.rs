//! Clinics (sites) of the installation: their names, short names and the crisis resources
//! their patients and visitors are shown.

use crate::db::{exec, fetch_all, fetch_opt};
use crate::error::{Conflict, Result, StoreError, is_unique_violation, opt_field};
use crate::{Store, new_id, now};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::person::Phone;
use kap_domain::staff::{Clinic, DEFAULT_CRISIS_RESOURCES};
use kap_domain::time::TimeZone;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(crate) struct ClinicRow {
    id: Uuid,
    name: String,
    slug: String,
    crisis_resources: String,
    phone: Option<String>,
    time_zone: Option<String>,
}

impl TryFrom<ClinicRow> for Clinic {
    type Error = StoreError;
    fn try_from(r: ClinicRow) -> Result<Clinic> {
        Ok(Clinic {
            phone: opt_field("clinic", r.id, "phone", r.phone.as_deref(), Phone::parse)?,
            id: r.id,
            name: r.name,
            slug: r.slug,
            crisis_resources: r.crisis_resources,
            time_zone: opt_field(
                "clinic",
                r.id,
                "time_zone",
                r.time_zone.as_deref(),
                TimeZone::parse,
            )?,
        })
    }
}

/// What a clinic's administrator sets about it.
#[derive(Debug, Clone)]
pub struct ClinicDetails<'a> {
    pub name: &'a str,
    pub crisis_resources: &'a str,
    pub phone: Option<&'a Phone>,
    pub time_zone: Option<TimeZone>,
}

pub(crate) const CLINIC_COLS: &str =
    "c.id, c.name, c.slug, c.crisis_resources, c.phone, c.time_zone";

impl Store {
    /// The installation's first clinic, created on first use so a fresh install works at once.
    pub async fn default_clinic(&self) -> Result<Clinic> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c ORDER BY c.created_at, c.id LIMIT 1");
        match fetch_opt!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql)) {
            Some(c) => c.try_into(),
            None => self.create_clinic("Main clinic", "main").await,
        }
    }

    /// Adds a clinic (by the installation: the command line, or the first start).
    pub async fn create_clinic(&self, name: &str, slug: &str) -> Result<Clinic> {
        let c = Clinic {
            id: new_id(),
            name: name.to_owned(),
            slug: slug.to_owned(),
            crisis_resources: DEFAULT_CRISIS_RESOURCES.to_owned(),
            phone: None,
            time_zone: None,
        };
        let mut a = self.audited(&Actor::system()).await?;
        let inserted: Result<u64, sqlx::Error> = crate::db::on!(tx(a.tx()), conn =>
            sqlx::query("INSERT INTO clinic (id, name, slug, crisis_resources, created_at)
                         VALUES ($1,$2,$3,$4,$5)")
                .bind(c.id).bind(&c.name).bind(&c.slug).bind(&c.crisis_resources).bind(now())
                .execute(conn).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(Conflict::ClinicSlugTaken(slug.to_owned()).into());
            }
            Err(e) => return Err(e.into()),
        }
        a.record(
            AuditAction::ClinicCreated,
            Subject::record(RecordKind::Clinic, c.id),
        )
        .await?;
        a.commit().await?;
        Ok(c)
    }

    pub async fn clinic(&self, id: Uuid) -> Result<Clinic> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c WHERE c.id = $1");
        fetch_opt!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql), id)
            .ok_or(StoreError::NotFound)?
            .try_into()
    }

    pub async fn clinic_by_slug(&self, slug: &str) -> Result<Clinic> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c WHERE c.slug = $1");
        fetch_opt!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql), slug)
            .ok_or(StoreError::NotFound)?
            .try_into()
    }

    pub async fn clinics(&self) -> Result<Vec<Clinic>> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c ORDER BY c.name, c.id");
        fetch_all!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql))
            .into_iter()
            .map(Clinic::try_from)
            .collect()
    }

    /// Sets a clinic's name, the crisis resources its patients and visitors are shown, its
    /// phone number and its time zone.
    pub async fn update_clinic(
        &self,
        actor: &Actor,
        id: Uuid,
        d: &ClinicDetails<'_>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE clinic SET name = $1, crisis_resources = $2, phone = $3, time_zone = $4
             WHERE id = $5",
            d.name,
            d.crisis_resources,
            d.phone.map(Phone::as_str),
            d.time_zone.map(TimeZone::name),
            id
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::record(RecordKind::Clinic, id),
        )
        .await?;
        a.commit().await
    }
}
