//! Leases for the work several `kapstone serve` processes share over one database. Every process
//! runs the worker; what it takes on, it claims first, naming itself and how long the claim
//! lasts. A claim that runs out (its holder died mid-job) is free to take again, so work is
//! never lost, and a live claim is never taken, so work is never done twice.
//!
//! Which work needs a lease and which does not:
//! - queued messages: claimed in batches ([`crate::Store::claim_messages`]), each claim renewed
//!   just before its send, cleared when the send is recorded or, for what failed or was not
//!   reached, when the round ends (so a failure is retried once a round, as with one process);
//! - questionnaire and check-in schedules, links owed before appointments, reminders: none. Each
//!   is fired by a compare-and-set inside the transaction that makes its link (the schedule moved
//!   on only from the due time read, the reminder marked only if unmarked, the owed link's key
//!   inserted only if absent), so a second process finds it done and a process that dies
//!   mid-transaction leaves it undone for the next round.
//!
//! The two databases claim differently, and only here: PostgreSQL lets concurrent claimers skip
//! the rows another is claiming (`FOR UPDATE SKIP LOCKED`); SQLite has no row locks and needs
//! none, since its one writer already serialises claims.

use crate::db::Db;
use chrono::Duration;

/// How long a claimed message stays with its claimer: longer than one send to a slow mail
/// server takes (the transport gives up on a command after 30 s), short enough that mail held by
/// a process that died goes out a few minutes late, not hours.
pub const MESSAGE_LEASE: Duration = Duration::minutes(5);

/// A name for this process as the holder of claims: unique per start, so a restarted process
/// does not mistake its predecessor's claims for its own.
pub fn holder_name() -> String {
    format!("pid{}-{}", std::process::id(), crate::random_hex(6))
}

/// What the select that picks rows to claim ends with on this database.
pub(crate) fn skip_locked(db: &Db) -> &'static str {
    match db {
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Db::Sqlite(..) => "",
    }
}
