//! Kapstone's clinical core: the types every other crate speaks in, parsed at the edge so that
//! a value that exists is valid, and the rules that decide things (who may do what, when an
//! alert escalates, what an audit chain must look like). No I/O and no async live here; where a
//! rule needs the time, it is passed in.

pub(crate) mod code;

pub mod alert;
pub mod audit;
pub mod checkin;
pub mod consent;
pub mod course;
pub mod dosing;
pub mod fields;
pub mod inquiry;
pub mod instruments;
pub mod measure;
pub mod messages;
pub mod notes;
pub mod password;
pub mod patient;
pub mod permission;
pub mod person;
pub mod protocol;
pub mod screening;
pub mod staff;
pub mod team;
pub mod time;
pub mod two_factor;

pub use code::UnknownCode;
pub use fields::{FieldError, FieldErrors};
pub use permission::{Action, Role};
