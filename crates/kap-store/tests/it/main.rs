//! Store tests, each stamped for both backends: `_sqlite` always runs; `_postgres` runs against
//! a fresh schema when `KAPSTONE_TEST_PG_URL` is set and says so when it is skipped.

mod audit;
mod inquiry;
mod measure;
mod patient;
mod staff;

use kap_domain::Role;
use kap_store::{Actor, Store};
use uuid::Uuid;

/// Stamps an async test body `fn(Store)` out as `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let store = kap_store::testing::store("sqlite")
                    .await
                    .expect("sqlite store");
                ($body)(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                if kap_store::testing::pg_url().is_none() {
                    eprintln!("skipped: KAPSTONE_TEST_PG_URL is not set");
                    return;
                }
                let store = kap_store::testing::store("postgres")
                    .await
                    .expect("postgres store");
                ($body)(store).await;
            }
        }
    };
}

/// A clinic with one staff member of the given role; returns the clinic id and an actor.
pub async fn clinic_with(store: &Store, slug: &str, role: Role) -> (Uuid, Actor) {
    let clinic = store.create_clinic(slug, slug).await.expect("clinic");
    let id = store
        .create_staff(
            &Actor::system(),
            &format!("{}@{slug}.test", role.as_str()),
            "Test Person",
            "$argon2id$not-a-real-hash",
            clinic.id,
            role,
        )
        .await
        .expect("staff");
    (
        clinic.id,
        Actor {
            staff_id: Some(id),
            kind: "staff",
            clinic_id: Some(clinic.id),
            address: Some("127.0.0.1".into()),
        },
    )
}

#[tokio::test]
async fn both_schemas_have_the_same_tables_and_columns() {
    let Some(url) = kap_store::testing::pg_url() else {
        eprintln!("skipped: KAPSTONE_TEST_PG_URL is not set");
        return;
    };
    let sqlite = kap_store::testing::sqlite().await.expect("sqlite");
    let pg = kap_store::testing::postgres(&url).await.expect("postgres");
    let a = sqlite.schema_columns().await.expect("sqlite schema");
    let b = pg.schema_columns().await.expect("pg schema");
    assert!(a.len() >= 10, "{a:?}");
    assert_eq!(a, b);
}
