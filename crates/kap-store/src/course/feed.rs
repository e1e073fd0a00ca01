//! Staff calendar feeds: an address with a random token (only its hash kept) that a calendar
//! app polls for one staff member's appointments in one clinic. Issuing a new one ends the
//! old; every read is audited in the staff member's name.

use crate::db::{exec, fetch_all, fetch_opt};
use crate::error::Result;
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, ActorKind, AuditAction, Subject};
use kap_domain::course::Appointment;
use uuid::Uuid;

/// Whose feed a token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub staff_id: Uuid,
    pub clinic_id: Uuid,
    pub clinic_name: String,
    pub time_zone: Option<String>,
    /// Whether the clinic lets feeds carry patients' names.
    pub shows_names: bool,
}

impl Store {
    /// A new feed token for the staff member in this clinic (ending any earlier one).
    pub async fn issue_calendar_feed(&self, actor: &Actor, clinic_id: Uuid) -> Result<String> {
        let staff_id = actor.staff_id.ok_or(crate::StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let t = now();
        exec!(
            tx(a.tx()),
            "UPDATE calendar_feed SET revoked_at = $1
             WHERE staff_id = $2 AND clinic_id = $3 AND revoked_at IS NULL",
            t,
            staff_id,
            clinic_id
        );
        let token = random_hex(24);
        exec!(
            tx(a.tx()),
            "INSERT INTO calendar_feed (id, clinic_id, staff_id, token_hash, created_at, revoked_at)
             VALUES ($1,$2,$3,$4,$5,NULL)",
            new_id(),
            clinic_id,
            staff_id,
            token_hash(&token),
            t
        );
        a.record(AuditAction::CalendarFeedIssued, Subject::none())
            .await?;
        a.commit().await?;
        Ok(token)
    }

    /// Whether the staff member has a feed in use here.
    pub async fn has_calendar_feed(&self, staff_id: Uuid, clinic_id: Uuid) -> Result<bool> {
        Ok(fetch_opt!(
            db(&self.db),
            (Uuid,),
            "SELECT id FROM calendar_feed WHERE staff_id = $1 AND clinic_id = $2
             AND revoked_at IS NULL",
            staff_id,
            clinic_id
        )
        .is_some())
    }

    /// The feed a token opens, if it is in use and its staff member still works there.
    pub async fn calendar_feed(&self, token: &str) -> Result<Option<Feed>> {
        Ok(fetch_opt!(
            db(&self.db),
            (Uuid, Uuid, String, Option<String>, bool),
            "SELECT f.staff_id, f.clinic_id, c.name, c.time_zone, c.calendar_shows_names
             FROM calendar_feed f JOIN clinic c ON c.id = f.clinic_id
             JOIN staff_user u ON u.id = f.staff_id
             JOIN staff_membership m ON m.staff_id = f.staff_id AND m.clinic_id = f.clinic_id
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.active",
            token_hash(token)
        )
        .map(
            |(staff_id, clinic_id, clinic_name, time_zone, shows_names)| Feed {
                staff_id,
                clinic_id,
                clinic_name,
                time_zone,
                shows_names,
            },
        ))
    }

    /// The feed's appointments from `from` to `to` (cancelled ones too, so calendar apps drop
    /// them), audited as a read by the feed's staff member.
    pub async fn feed_appointments(
        &self,
        f: &Feed,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>> {
        let actor = Actor {
            staff_id: Some(f.staff_id),
            clinic_id: Some(f.clinic_id),
            kind: ActorKind::Api,
            ..Actor::system()
        };
        self.calendar(
            &actor,
            f.clinic_id,
            from,
            to,
            super::appointment::CalendarFilter {
                staff_id: Some(f.staff_id),
                ..Default::default()
            },
        )
        .await
    }

    /// Whether calendar feeds may carry patients' names (a clinic's choice; off by default).
    pub async fn set_calendar_shows_names(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        on: bool,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE clinic SET calendar_shows_names = $1 WHERE id = $2",
            on,
            clinic_id
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::none().with_detail(format!("calendar feeds show names: {on}")),
        )
        .await?;
        a.commit().await
    }

    /// The clinic's choice about names in calendar feeds.
    pub async fn calendar_shows_names(&self, clinic_id: Uuid) -> Result<bool> {
        let r = fetch_all!(
            db(&self.db),
            (bool,),
            "SELECT calendar_shows_names FROM clinic WHERE id = $1",
            clinic_id
        );
        r.first().map(|x| x.0).ok_or(crate::StoreError::NotFound)
    }
}
