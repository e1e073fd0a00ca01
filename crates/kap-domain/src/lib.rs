//! Kapstone's clinical core: the types every other crate speaks in, parsed at the edge so that a
//! value that exists is valid, and the rules that decide things (who may do what, what an audit
//! chain must look like). No I/O and no async live here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod audit;
pub mod fields;
pub mod inquiry;
pub mod instruments;
pub mod password;
pub mod patient;
pub mod permission;
pub mod person;

pub use fields::{FieldError, FieldErrors};
pub use permission::{Action, Role};
