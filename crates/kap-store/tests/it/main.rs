//! Store tests, each stamped for both backends: `sqlite` always runs; `postgres` runs against a
//! fresh schema on the server named by `KAPSTONE_TEST_PG_URL`, and is reported as ignored unless
//! asked for (`-- --include-ignored`), so a run without PostgreSQL never counts it as passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod audit;
mod checkin;
mod consent;
mod course;
mod dosing;
mod group_commit;
mod inquiry;
mod lease;
mod measure;
mod notes;
mod patient;
mod screening;
mod staff;
mod team;

use kap_domain::Role;
use kap_store::staff::NewStaff;
use kap_store::{Actor, ActorKind, Store};
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
            #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
            async fn postgres() {
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
            NewStaff {
                email: &format!("{}@{slug}.test", role.as_str()),
                full_name: "Test Person",
                password_hash: "$argon2id$not-a-real-hash",
                clinic_id: clinic.id,
                role,
            },
        )
        .await
        .expect("staff");
    (
        clinic.id,
        Actor::staff(id, ActorKind::Staff, clinic.id, Some("127.0.0.1".into())),
    )
}

/// Another staff member of an existing clinic, named after the role ("Nurse Person").
pub async fn staff_in(store: &Store, clinic: Uuid, role: Role) -> Actor {
    let id = store
        .create_staff(
            &Actor::system(),
            NewStaff {
                email: &format!("{}-{clinic}@staff.test", role.as_str()),
                full_name: &format!("{} Person", role.label()),
                password_hash: "$argon2id$not-a-real-hash",
                clinic_id: clinic,
                role,
            },
        )
        .await
        .expect("staff");
    Actor::staff(id, ActorKind::Staff, clinic, Some("127.0.0.1".into()))
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
async fn both_schemas_have_the_same_tables_columns_types_and_indexes() {
    let url = kap_store::testing::pg_url().expect("KAPSTONE_TEST_PG_URL");
    let sqlite = kap_store::testing::sqlite().await.expect("sqlite");
    let pg = kap_store::testing::postgres(&url).await.expect("postgres");
    let a = sqlite.schema().await.expect("sqlite schema");
    let b = pg.schema().await.expect("pg schema");
    assert!(a.len() >= 10, "{a:?}");
    assert!(a["patient"].indexes.len() >= 4, "{:?}", a["patient"]);
    let diff = kap_store::testing::schema_differences(&a, &b);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn schema_differences_name_type_nullability_and_index_drift() {
    use kap_store::TableShape;
    use std::collections::BTreeMap;
    let table = |ty: &str, not_null: bool, idx: &[&str]| {
        let mut t = TableShape::default();
        t.columns.insert("id".into(), ("blob".into(), true));
        t.columns.insert("n".into(), (ty.into(), not_null));
        t.indexes = idx.iter().map(|s| (*s).to_owned()).collect();
        t
    };
    let a = BTreeMap::from([("t".to_owned(), table("integer", true, &["t_n"]))]);
    let mut pg_t = table("text", false, &[]);
    pg_t.columns.insert("id".into(), ("uuid".into(), true));
    let b = BTreeMap::from([("t".to_owned(), pg_t)]);
    let d = kap_store::testing::schema_differences(&a, &b);
    assert_eq!(d.len(), 3, "{d:?}");
    let mut same = table("integer", true, &["t_n"]);
    same.columns.insert("id".into(), ("uuid".into(), true));
    same.columns.insert("n".into(), ("integer".into(), true));
    assert!(
        kap_store::testing::schema_differences(&a, &BTreeMap::from([("t".to_owned(), same)]))
            .is_empty()
    );
}
