//! Clinics (sites) of the installation: their names, short names and the crisis resources
//! their patients and visitors are shown.

use crate::db::{exec, fetch_all, fetch_opt};
use crate::error::{Conflict, Result, StoreError, is_unique_violation};
use crate::{Store, new_id, now};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::staff::{Clinic, DEFAULT_CRISIS_RESOURCES};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(crate) struct ClinicRow {
    id: Uuid,
    name: String,
    slug: String,
    crisis_resources: String,
}

impl From<ClinicRow> for Clinic {
    fn from(r: ClinicRow) -> Clinic {
        Clinic {
            id: r.id,
            name: r.name,
            slug: r.slug,
            crisis_resources: r.crisis_resources,
        }
    }
}

pub(crate) const CLINIC_COLS: &str = "c.id, c.name, c.slug, c.crisis_resources";

impl Store {
    /// The installation's first clinic, created on first use so a fresh install works at once.
    pub async fn default_clinic(&self) -> Result<Clinic> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c ORDER BY c.created_at, c.id LIMIT 1");
        match fetch_opt!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql)) {
            Some(c) => Ok(c.into()),
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
            .map(Clinic::from)
            .ok_or(StoreError::NotFound)
    }

    pub async fn clinic_by_slug(&self, slug: &str) -> Result<Clinic> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c WHERE c.slug = $1");
        fetch_opt!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql), slug)
            .map(Clinic::from)
            .ok_or(StoreError::NotFound)
    }

    pub async fn clinics(&self) -> Result<Vec<Clinic>> {
        let sql = format!("SELECT {CLINIC_COLS} FROM clinic c ORDER BY c.name, c.id");
        Ok(
            fetch_all!(db(&self.db), ClinicRow, sqlx::AssertSqlSafe(sql))
                .into_iter()
                .map(Clinic::from)
                .collect(),
        )
    }

    /// Renames a clinic and sets the crisis resources its patients and visitors are shown.
    pub async fn update_clinic(
        &self,
        actor: &Actor,
        id: Uuid,
        name: &str,
        crisis_resources: &str,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE clinic SET name = $1, crisis_resources = $2 WHERE id = $3",
            name,
            crisis_resources,
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
