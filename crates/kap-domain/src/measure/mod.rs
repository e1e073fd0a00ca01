//! Measurement-based care beyond the instruments themselves: stored responses, patient links
//! and their reminders, the outbox of messages to patients, questionnaire schedules, and a
//! clinic's measurement settings.

pub mod link;
pub mod outbox;
pub mod response;
pub mod schedule;
pub mod settings;

pub use link::{Link, LinkPage, LinkState};
pub use outbox::{OutboxMessage, OutboxStatus};
pub use response::{QuestionnaireResponse, ResponseSource};
pub use schedule::Schedule;
pub use settings::MeasurementSettings;
