//! Measurement-based care: questionnaire responses with the safety alerts they raise (written
//! in the same transaction, before the response is acknowledged), patient links, the outbox,
//! questionnaire schedules and the clinic's measurement settings — one file each.

pub mod alert;
pub mod link;
pub mod outbox;
pub mod response;
pub mod schedule;
pub mod settings;

use crate::db::{Tx, scalar_opt};
use crate::error::{Result, StoreError};
use uuid::Uuid;

/// Refuses (as not found) a patient who is not of this clinic.
pub(crate) async fn patient_in_clinic(
    tx: &mut Tx,
    clinic_id: Uuid,
    patient_id: Uuid,
) -> Result<()> {
    scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM patient WHERE id = $1 AND clinic_id = $2",
        patient_id,
        clinic_id
    )
    .map(|_| ())
    .ok_or(StoreError::NotFound)
}
