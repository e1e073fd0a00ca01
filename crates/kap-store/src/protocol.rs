//! The clinic's protocols: each uploaded version's text kept exactly as it came (triggers stop
//! any change), read back through the domain's parser — a stored text that no longer reads is
//! an error naming the version, never skipped — and retirement as a record beside the versions.

use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Conflict, Result, StoreError};
use crate::{Store, now};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::protocol::record::{ProtocolVersion, Retirement};
use kap_domain::protocol::{self, Protocol};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: Uuid,
    clinic_id: Uuid,
    file_name: String,
    body: String,
    body_sha256: String,
    uploaded_at: DateTime<Utc>,
    uploaded_by_name: Option<String>,
    latest: bool,
    retire_reason: Option<String>,
    retired_at: Option<DateTime<Utc>>,
    retired_by_name: Option<String>,
}

/// Protocol versions already read, by id and the hash of their text. Stored versions never
/// change (triggers refuse it), so a version is parsed once per process; the hash keeps the
/// cache honest even so. A dosing session reads its protocol on every entry.
static PARSED: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<(uuid::Uuid, String), Protocol>>,
> = std::sync::LazyLock::new(Default::default);

/// How many parsed versions the cache keeps before it starts again (a clinic has a handful).
const PARSED_MAX: usize = 256;

fn parsed(r: &VersionRow) -> Result<Protocol> {
    let key = (r.id, r.body_sha256.clone());
    if let Some(p) = PARSED.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(p);
    }
    let p = protocol::parse(&r.file_name, &r.body).map_err(|e| StoreError::Corrupt {
        record: "protocol",
        id: r.id.to_string(),
        field: "body",
        problem: e.to_string(),
    })?;
    if let Ok(mut m) = PARSED.lock() {
        if m.len() >= PARSED_MAX {
            m.clear();
        }
        m.insert(key, p.clone());
    }
    Ok(p)
}

impl TryFrom<VersionRow> for ProtocolVersion {
    type Error = StoreError;
    fn try_from(r: VersionRow) -> Result<Self> {
        let protocol = parsed(&r)?;
        Ok(ProtocolVersion {
            id: r.id,
            clinic_id: r.clinic_id,
            file_name: r.file_name,
            body: r.body,
            sha256: r.body_sha256,
            uploaded_at: r.uploaded_at,
            uploaded_by_name: r.uploaded_by_name,
            latest: r.latest,
            retired: match (r.retire_reason, r.retired_at) {
                (Some(reason), Some(retired_at)) => Some(Retirement {
                    reason,
                    retired_at,
                    retired_by_name: r.retired_by_name,
                }),
                _ => None,
            },
            protocol,
        })
    }
}

const VERSION_SQL: &str = "SELECT p.id, p.clinic_id, p.file_name, p.body, p.body_sha256,
    p.uploaded_at, u.full_name AS uploaded_by_name,
    p.version = (SELECT MAX(x.version) FROM protocol x
                 WHERE x.clinic_id = p.clinic_id AND x.key = p.key) AS latest,
    r.reason AS retire_reason, r.retired_at, ru.full_name AS retired_by_name
    FROM protocol p
    LEFT JOIN staff_user u ON u.id = p.uploaded_by
    LEFT JOIN protocol_retirement r ON r.clinic_id = p.clinic_id AND r.key = p.key
    LEFT JOIN staff_user ru ON ru.id = r.retired_by";

fn versions(rows: Vec<VersionRow>) -> Result<Vec<ProtocolVersion>> {
    rows.into_iter().map(ProtocolVersion::try_from).collect()
}

/// One version of one of the clinic's protocols, inside a transaction.
pub(crate) async fn load_version(
    tx: &mut Tx,
    clinic_id: Uuid,
    id: Uuid,
) -> Result<ProtocolVersion> {
    let sql = format!("{VERSION_SQL} WHERE p.id = $1 AND p.clinic_id = $2");
    fetch_opt!(tx(tx), VersionRow, sqlx::AssertSqlSafe(sql), id, clinic_id)
        .ok_or(StoreError::NotFound)?
        .try_into()
}

impl Store {
    /// Adds a protocol version from a file: refused whole, with every problem listed, when it
    /// does not validate; refused when its version is not above the clinic's newest of the
    /// same protocol, or the protocol is retired.
    pub async fn upload_protocol(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        file_name: &str,
        text: &str,
    ) -> Result<Uuid> {
        let p = protocol::parse(file_name, text).map_err(Conflict::ProtocolFile)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let id = insert_version(a.tx(), actor, clinic_id, file_name, text, &p).await?;
        a.record(
            AuditAction::ProtocolUploaded,
            Subject::none().with_detail(format!("{} v{} ({id})", p.key, p.version)),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Adds each protocol Kapstone ships that the clinic does not have yet (by key). Returns
    /// how many were added.
    pub async fn install_shipped_protocols(&self, actor: &Actor, clinic_id: Uuid) -> Result<usize> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let mut added = 0;
        for (file, text) in protocol::shipped() {
            let p = protocol::parse(file, text).map_err(Conflict::ProtocolFile)?;
            let have = scalar_opt!(
                tx(a.tx()),
                Uuid,
                "SELECT id FROM protocol WHERE clinic_id = $1 AND key = $2 LIMIT 1",
                clinic_id,
                &p.key
            );
            if have.is_some() {
                continue;
            }
            let id = insert_version(a.tx(), actor, clinic_id, file, text, &p).await?;
            a.record(
                AuditAction::ProtocolUploaded,
                Subject::none().with_detail(format!("shipped {} v{} ({id})", p.key, p.version)),
            )
            .await?;
            added += 1;
        }
        if added == 0 {
            // Nothing new: nothing to write or audit (the transaction is dropped unused).
            return Ok(0);
        }
        a.commit().await?;
        Ok(added)
    }

    /// Every version of every protocol of the clinic: by name, newest version first.
    pub async fn protocols(&self, clinic_id: Uuid) -> Result<Vec<ProtocolVersion>> {
        let sql =
            format!("{VERSION_SQL} WHERE p.clinic_id = $1 ORDER BY p.name, p.key, p.version DESC");
        versions(fetch_all!(
            db(&self.db),
            VersionRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id
        ))
    }

    /// The newest version of each protocol not retired: what a new course may be planned on.
    pub async fn protocols_in_use(&self, clinic_id: Uuid) -> Result<Vec<ProtocolVersion>> {
        Ok(self
            .protocols(clinic_id)
            .await?
            .into_iter()
            .filter(|v| v.latest && v.retired.is_none())
            .collect())
    }

    /// One version.
    pub async fn protocol_version(&self, clinic_id: Uuid, id: Uuid) -> Result<ProtocolVersion> {
        let sql = format!("{VERSION_SQL} WHERE p.id = $1 AND p.clinic_id = $2");
        fetch_opt!(
            db(&self.db),
            VersionRow,
            sqlx::AssertSqlSafe(sql),
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    /// The version before this one of the same protocol, if any (for the diff).
    pub async fn previous_protocol_version(
        &self,
        v: &ProtocolVersion,
    ) -> Result<Option<ProtocolVersion>> {
        let sql = format!(
            "{VERSION_SQL} WHERE p.clinic_id = $1 AND p.key = $2 AND p.version < $3
             ORDER BY p.version DESC LIMIT 1"
        );
        fetch_opt!(
            db(&self.db),
            VersionRow,
            sqlx::AssertSqlSafe(sql),
            v.clinic_id,
            &v.protocol.key,
            i64::from(v.protocol.version)
        )
        .map(ProtocolVersion::try_from)
        .transpose()
    }

    /// Retires a protocol (all its versions): no new courses on it; courses under it go on.
    pub async fn retire_protocol(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        key: &str,
        reason: &str,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let known = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM protocol WHERE clinic_id = $1 AND key = $2 LIMIT 1",
            clinic_id,
            key
        );
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let done = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT key FROM protocol_retirement WHERE clinic_id = $1 AND key = $2",
            clinic_id,
            key
        );
        if done.is_some() {
            return Err(Conflict::ProtocolRetired.into());
        }
        exec!(
            tx(a.tx()),
            "INSERT INTO protocol_retirement (clinic_id, key, reason, retired_by, retired_at)
             VALUES ($1,$2,$3,$4,$5)",
            clinic_id,
            key,
            reason,
            actor.staff_id,
            now()
        );
        a.record(
            AuditAction::ProtocolRetired,
            Subject::none().with_detail(format!("{key}: {reason}")),
        )
        .await?;
        a.commit().await
    }
}

async fn insert_version(
    tx: &mut Tx,
    actor: &Actor,
    clinic_id: Uuid,
    file_name: &str,
    text: &str,
    p: &Protocol,
) -> Result<Uuid> {
    let retired = scalar_opt!(
        tx(tx),
        String,
        "SELECT key FROM protocol_retirement WHERE clinic_id = $1 AND key = $2",
        clinic_id,
        &p.key
    );
    if retired.is_some() {
        return Err(Conflict::ProtocolRetired.into());
    }
    let latest = scalar_opt!(
        tx(tx),
        Option<i32>,
        "SELECT CAST(MAX(version) AS INTEGER) FROM protocol WHERE clinic_id = $1 AND key = $2",
        clinic_id,
        &p.key
    )
    .flatten();
    if let Some(latest) = latest {
        let latest = u32::try_from(latest).unwrap_or(0);
        if p.version <= latest {
            return Err(Conflict::ProtocolVersionNotNewer {
                key: p.key.clone(),
                given: p.version,
                latest,
            }
            .into());
        }
    }
    let id = crate::new_id();
    exec!(
        tx(tx),
        "INSERT INTO protocol (id, clinic_id, key, version, name, route, file_name, body,
            body_sha256, uploaded_by, uploaded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        id,
        clinic_id,
        &p.key,
        i64::from(p.version),
        &p.name,
        p.route.as_str(),
        file_name,
        text,
        hex::encode(Sha256::digest(text.as_bytes())),
        actor.staff_id,
        now()
    );
    Ok(id)
}
