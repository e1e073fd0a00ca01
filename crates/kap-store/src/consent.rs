//! Informed consent: the clinic's consent documents per route as versions (publishing a changed
//! text adds a version; triggers keep versions and signed consents from ever changing), consent
//! links sent to patients with their message in the outbox, consents signed through a link (the
//! signature checked against the registered name inside the transaction that stores it, the
//! link spent in the same transaction) or in clinic before a witness, and the REMS enrolment
//! history. Every read and write of a patient's consents is audited.

use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::measure::outbox::{LinkRef, Recipient};
use crate::measure::patient_in_clinic;
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::consent::{
    Consent, ConsentDocument, ConsentLink, ConsentMethod, NewDocument, NewRems, RemsEnrolment,
    SignatureForm, Withdrawal, WithdrawalForm,
};
use kap_domain::messages::{TOKEN_SLOT, consent_link};
use kap_domain::screening::Route;
use uuid::Uuid;

const RECORD: &str = "consent";

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    clinic_id: Uuid,
    route: String,
    version: i32,
    title: String,
    body: String,
    published_at: DateTime<Utc>,
    published_by_name: Option<String>,
}

impl TryFrom<DocumentRow> for ConsentDocument {
    type Error = StoreError;
    fn try_from(r: DocumentRow) -> Result<Self> {
        Ok(ConsentDocument {
            route: code("consent document", r.id, "route", &r.route)?,
            id: r.id,
            clinic_id: r.clinic_id,
            version: r.version,
            title: r.title,
            body: r.body,
            published_at: r.published_at,
            published_by_name: r.published_by_name,
        })
    }
}

const DOC_COLS: &str = "d.id, d.clinic_id, d.route, d.version, d.title, d.body, d.published_at,
    u.full_name AS published_by_name";

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Uuid,
    patient_id: Uuid,
    document_id: Uuid,
    route: String,
    version: i32,
    title: String,
    typed_name: String,
    signed_on: NaiveDate,
    method: String,
    from_address: Option<String>,
    witness_name: Option<String>,
    recorded_at: DateTime<Utc>,
    withdrawn_on: Option<NaiveDate>,
    withdrawal_reason: Option<String>,
    withdrawn_by_name: Option<String>,
    withdrawal_recorded_at: Option<DateTime<Utc>>,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;
    fn try_from(r: ConsentRow) -> Result<Self> {
        Ok(Consent {
            route: code(RECORD, r.id, "route", &r.route)?,
            method: code(RECORD, r.id, "method", &r.method)?,
            id: r.id,
            patient_id: r.patient_id,
            document_id: r.document_id,
            version: r.version,
            title: r.title,
            typed_name: r.typed_name,
            signed_on: r.signed_on,
            from_address: r.from_address,
            witness_name: r.witness_name,
            recorded_at: r.recorded_at,
            withdrawn: match (
                r.withdrawn_on,
                r.withdrawal_reason,
                r.withdrawal_recorded_at,
            ) {
                (Some(withdrawn_on), Some(reason), Some(recorded_at)) => Some(Withdrawal {
                    withdrawn_on,
                    reason,
                    recorded_by_name: r.withdrawn_by_name,
                    recorded_at,
                }),
                _ => None,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    document_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

/// A consent link to create, and how its message is delivered.
#[derive(Debug, Clone, Copy)]
pub struct NewConsentLink<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub route: Route,
    pub valid_for: Duration,
    /// The address patients use to reach Kapstone (no trailing slash).
    pub public_url: &'a str,
    pub email_enabled: bool,
}

/// A patient's consents and REMS enrolment history, newest first.
#[derive(Debug, Clone, Default)]
pub struct ConsentRecord {
    pub consents: Vec<Consent>,
    pub rems: Vec<RemsEnrolment>,
}

/// The current version of a clinic's document for a route, inside a transaction.
async fn current_document(tx: &mut Tx, clinic_id: Uuid, route: Route) -> Result<Option<Uuid>> {
    Ok(scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM consent_document WHERE clinic_id = $1 AND route = $2
         ORDER BY version DESC LIMIT 1",
        clinic_id,
        route.as_str()
    ))
}

/// Checks a signature against the patient's registered name, inside the transaction.
async fn checked(
    tx: &mut Tx,
    clinic_id: Uuid,
    patient_id: Uuid,
    form: &SignatureForm<'_>,
    today: NaiveDate,
) -> Result<kap_domain::consent::Signature> {
    let name = scalar_opt!(
        tx(tx),
        String,
        "SELECT full_name FROM patient WHERE id = $1 AND clinic_id = $2",
        patient_id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    form.check(&name, today)
        .map_err(|e| Conflict::SignatureInvalid(e).into())
}

struct NewConsent<'a> {
    clinic_id: Uuid,
    patient_id: Uuid,
    document_id: Uuid,
    signature: &'a kap_domain::consent::Signature,
    method: ConsentMethod,
    link_id: Option<Uuid>,
    from_address: Option<&'a str>,
    witness: Option<Uuid>,
}

async fn insert_consent(a: &mut Audited, c: NewConsent<'_>) -> Result<Uuid> {
    let id = new_id();
    exec!(
        tx(a.tx()),
        "INSERT INTO consent (id, clinic_id, patient_id, document_id, typed_name, signed_on,
            understood, method, link_id, from_address, witness, recorded_at)
         VALUES ($1,$2,$3,$4,$5,$6,TRUE,$7,$8,$9,$10,$11)",
        id,
        c.clinic_id,
        c.patient_id,
        c.document_id,
        &c.signature.typed_name,
        c.signature.signed_on,
        c.method.as_str(),
        c.link_id,
        c.from_address,
        c.witness,
        now()
    );
    a.record(
        AuditAction::ConsentSigned,
        Subject::patient(c.patient_id).with_detail(format!(
            "consent {id} to document {} ({})",
            c.document_id,
            c.method.as_str()
        )),
    )
    .await?;
    Ok(id)
}

impl Store {
    /// Publishes a new version of the clinic's consent document for a route (version 1 when it
    /// has none yet).
    pub async fn publish_consent_document(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        doc: &NewDocument,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let version: i32 = scalar!(
            tx(a.tx()),
            i32,
            "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS INTEGER) FROM consent_document
             WHERE clinic_id = $1 AND route = $2",
            clinic_id,
            doc.route.as_str()
        );
        let id = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO consent_document (id, clinic_id, route, version, title, body,
                published_at, published_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            id,
            clinic_id,
            doc.route.as_str(),
            version,
            &doc.title,
            &doc.body,
            now(),
            actor.staff_id
        );
        a.record(
            AuditAction::ConsentDocumentPublished,
            Subject::none().with_detail(format!(
                "{} consent version {version} ({id})",
                doc.route.as_str()
            )),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Every version of the clinic's consent documents, by route, newest version first.
    pub async fn consent_documents(&self, clinic_id: Uuid) -> Result<Vec<ConsentDocument>> {
        let sql = format!(
            "SELECT {DOC_COLS} FROM consent_document d
             LEFT JOIN staff_user u ON u.id = d.published_by
             WHERE d.clinic_id = $1 ORDER BY d.route, d.version DESC"
        );
        fetch_all!(
            db(&self.db),
            DocumentRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id
        )
        .into_iter()
        .map(ConsentDocument::try_from)
        .collect()
    }

    /// The current version for each route the clinic has a document for (read on every chart
    /// view: only the newest version of each route is fetched).
    pub async fn current_consent_documents(&self, clinic_id: Uuid) -> Result<Vec<ConsentDocument>> {
        let sql = format!(
            "SELECT {DOC_COLS} FROM consent_document d
             LEFT JOIN staff_user u ON u.id = d.published_by
             WHERE d.clinic_id = $1 AND d.version = (SELECT MAX(x.version)
                FROM consent_document x WHERE x.clinic_id = d.clinic_id AND x.route = d.route)
             ORDER BY d.route"
        );
        fetch_all!(
            db(&self.db),
            DocumentRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id
        )
        .into_iter()
        .map(ConsentDocument::try_from)
        .collect()
    }

    /// One version of one of the clinic's documents.
    pub async fn consent_document(&self, clinic_id: Uuid, id: Uuid) -> Result<ConsentDocument> {
        let sql = format!(
            "SELECT {DOC_COLS} FROM consent_document d
             LEFT JOIN staff_user u ON u.id = d.published_by
             WHERE d.id = $1 AND d.clinic_id = $2"
        );
        fetch_opt!(
            db(&self.db),
            DocumentRow,
            sqlx::AssertSqlSafe(sql),
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    /// Creates a single-use link to the current version of the route's document and queues the
    /// message carrying it, in one transaction. Returns the link id and the raw token.
    pub async fn create_consent_link(
        &self,
        actor: &Actor,
        l: NewConsentLink<'_>,
    ) -> Result<(Uuid, String)> {
        let mut a = self.audited_in(actor, l.clinic_id).await?;
        let to = Recipient::of(a.tx(), l.clinic_id, l.patient_id).await?;
        let document_id = current_document(a.tx(), l.clinic_id, l.route)
            .await?
            .ok_or(Conflict::NoConsentDocument(l.route))?;
        let title = scalar!(
            tx(a.tx()),
            String,
            "SELECT title FROM consent_document WHERE id = $1",
            document_id
        );
        let token = random_hex(24);
        let id = new_id();
        let t = now();
        exec!(
            tx(a.tx()),
            "INSERT INTO consent_link (id, clinic_id, patient_id, document_id, token_hash,
                created_by, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            id,
            l.clinic_id,
            l.patient_id,
            document_id,
            token_hash(&token),
            actor.staff_id,
            t,
            t + l.valid_for
        );
        let message = consent_link(
            to.sender(),
            &title,
            &format!("{}/c/{TOKEN_SLOT}", l.public_url),
        );
        to.queue(
            &mut a,
            &self.sealer(),
            LinkRef::Consent(id),
            &message,
            &token,
            l.email_enabled,
        )
        .await?;
        a.record(
            AuditAction::ConsentLinkCreated,
            Subject::patient(l.patient_id)
                .with_detail(format!("consent link {id} to document {document_id}")),
        )
        .await?;
        a.commit().await?;
        Ok((id, token))
    }

    /// The consent link behind a raw token, if any (used, expired or not).
    pub async fn consent_link_by_token(&self, token: &str) -> Result<Option<ConsentLink>> {
        Ok(fetch_opt!(
            db(&self.db),
            LinkRow,
            "SELECT id, clinic_id, patient_id, document_id, created_at, expires_at, used_at
             FROM consent_link WHERE token_hash = $1",
            token_hash(token)
        )
        .map(|r| ConsentLink {
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            document_id: r.document_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        }))
    }

    /// The patient signs through a link: the signature is checked against the registered name,
    /// the link is spent and its message's sealed token dropped, all in one transaction. A link
    /// already used or expired is [`Conflict::LinkSpent`]; a signature that does not hold is
    /// [`Conflict::SignatureInvalid`] and stores nothing.
    pub async fn sign_consent_by_link(
        &self,
        actor: &Actor,
        link: &ConsentLink,
        form: &SignatureForm<'_>,
        today: NaiveDate,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, link.clinic_id).await?;
        let signature = checked(a.tx(), link.clinic_id, link.patient_id, form, today).await?;
        let t = now();
        let spent = exec!(
            tx(a.tx()),
            "UPDATE consent_link SET used_at = $1
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
            t,
            link.id
        );
        if spent == 0 {
            return Err(Conflict::LinkSpent.into());
        }
        exec!(
            tx(a.tx()),
            "UPDATE outbox SET sealed_token = NULL WHERE consent_link_id = $1",
            link.id
        );
        let address = a.actor().address.clone();
        let id = insert_consent(
            &mut a,
            NewConsent {
                clinic_id: link.clinic_id,
                patient_id: link.patient_id,
                document_id: link.document_id,
                signature: &signature,
                method: ConsentMethod::Link,
                link_id: Some(link.id),
                from_address: address.as_deref(),
                witness: None,
            },
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// A consent signed in clinic: the signed-in staff member is the witness. Only the current
    /// version of the route's document can be signed ([`Conflict::ConsentDocumentOutdated`]).
    pub async fn record_consent_in_clinic(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        document_id: Uuid,
        form: &SignatureForm<'_>,
        today: NaiveDate,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let route = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT route FROM consent_document WHERE id = $1 AND clinic_id = $2",
            document_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let route: Route = code("consent document", document_id, "route", &route)?;
        if current_document(a.tx(), clinic_id, route).await? != Some(document_id) {
            return Err(Conflict::ConsentDocumentOutdated.into());
        }
        let signature = checked(a.tx(), clinic_id, patient_id, form, today).await?;
        let witness = actor.staff_id;
        let id = insert_consent(
            &mut a,
            NewConsent {
                clinic_id,
                patient_id,
                document_id,
                signature: &signature,
                method: ConsentMethod::InClinic,
                link_id: None,
                from_address: None,
                witness,
            },
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Records the patient's withdrawal of a signed consent, checked against its signing date on
    /// `today`. A consent is withdrawn once ([`Conflict::ConsentWithdrawn`]).
    pub async fn withdraw_consent(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        consent_id: Uuid,
        form: &WithdrawalForm<'_>,
        today: NaiveDate,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (patient, signed_on, withdrawn) = fetch_opt!(
            tx(a.tx()),
            (Uuid, NaiveDate, Option<NaiveDate>),
            "SELECT c.patient_id, c.signed_on, w.withdrawn_on FROM consent c
             LEFT JOIN consent_withdrawal w ON w.consent_id = c.id
             WHERE c.id = $1 AND c.clinic_id = $2",
            consent_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        if withdrawn.is_some() {
            return Err(Conflict::ConsentWithdrawn.into());
        }
        let (on, reason) = form
            .parse(signed_on, today)
            .map_err(Conflict::SignatureInvalid)?;
        exec!(
            tx(a.tx()),
            "INSERT INTO consent_withdrawal (consent_id, withdrawn_on, reason, recorded_by,
                recorded_at) VALUES ($1,$2,$3,$4,$5)",
            consent_id,
            on,
            &reason,
            actor.staff_id,
            now()
        );
        a.record(
            AuditAction::ConsentWithdrawn,
            Subject::patient(patient).with_detail(format!("consent {consent_id}")),
        )
        .await?;
        a.commit().await?;
        Ok(patient)
    }

    /// The patient a consent of the clinic belongs to.
    pub async fn consent_patient(&self, clinic_id: Uuid, consent_id: Uuid) -> Result<Uuid> {
        scalar_opt!(
            db(&self.db),
            Uuid,
            "SELECT patient_id FROM consent WHERE id = $1 AND clinic_id = $2",
            consent_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)
    }

    /// Records an entry of the patient's REMS enrolment history.
    pub async fn record_rems(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        r: &NewRems,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        exec!(
            tx(a.tx()),
            "INSERT INTO rems_enrolment (id, clinic_id, patient_id, status, effective_on,
                reference, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            new_id(),
            clinic_id,
            patient_id,
            r.status.as_str(),
            r.on,
            r.reference.as_deref(),
            actor.staff_id,
            now()
        );
        a.record(
            AuditAction::RemsRecorded,
            Subject::patient(patient_id).with_detail(format!("REMS {}", r.status.as_str())),
        )
        .await?;
        a.commit().await
    }

    /// A patient's signed consents and REMS enrolment history, newest first (audited).
    pub async fn consent_record(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<ConsentRecord> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let consents = fetch_all!(
            tx(a.tx()),
            ConsentRow,
            "SELECT c.id, c.patient_id, c.document_id, d.route, d.version, d.title, c.typed_name,
                c.signed_on, c.method, c.from_address, u.full_name AS witness_name, c.recorded_at,
                w.withdrawn_on, w.reason AS withdrawal_reason,
                wu.full_name AS withdrawn_by_name, w.recorded_at AS withdrawal_recorded_at
             FROM consent c JOIN consent_document d ON d.id = c.document_id
             LEFT JOIN staff_user u ON u.id = c.witness
             LEFT JOIN consent_withdrawal w ON w.consent_id = c.id
             LEFT JOIN staff_user wu ON wu.id = w.recorded_by
             WHERE c.patient_id = $1 AND c.clinic_id = $2
             ORDER BY c.recorded_at DESC, c.id DESC",
            patient_id,
            clinic_id
        )
        .into_iter()
        .map(Consent::try_from)
        .collect::<Result<Vec<_>>>()?;
        let rems = fetch_all!(
            tx(a.tx()),
            (
                Uuid,
                String,
                NaiveDate,
                Option<String>,
                Option<String>,
                DateTime<Utc>
            ),
            "SELECT r.id, r.status, r.effective_on, r.reference, u.full_name, r.recorded_at
             FROM rems_enrolment r LEFT JOIN staff_user u ON u.id = r.recorded_by
             WHERE r.patient_id = $1 AND r.clinic_id = $2
             ORDER BY r.recorded_at DESC, r.id DESC",
            patient_id,
            clinic_id
        )
        .into_iter()
        .map(|(id, status, on, reference, by, at)| {
            Ok(RemsEnrolment {
                status: code("REMS enrolment", id, "status", &status)?,
                on,
                reference,
                recorded_by_name: by,
                recorded_at: at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        a.record(
            AuditAction::ConsentsRead,
            Subject::patient(patient_id).with_detail(format!("{} consents", consents.len())),
        )
        .await?;
        a.commit().await?;
        Ok(ConsentRecord { consents, rems })
    }
}
