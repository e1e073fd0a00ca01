//! The one way to touch clinical data: an [`Audited`] transaction holds the database
//! transaction, the audit key and the actor, and [`Audited::record`] notes the hash-chained
//! audit row of what it did. It refuses to commit when nothing was recorded, so no change and
//! no read can forget its audit row.
//!
//! Two kinds, one rule — nothing is answered before its audit row is durable:
//! - a **write** ([`Store::audited`]) appends its rows inside its own transaction, so the change
//!   and its rows commit together or not at all;
//! - a **read** ([`Store::audited_read`]) reads in a read-only snapshot that takes no write lock,
//!   then hands its rows to the [group commit](GroupCommit): one writer task appends the rows of
//!   every read waiting at that moment in one transaction, and wakes each reader only once that
//!   transaction is durable. A read's data is returned by the store function only after
//!   [`Audited::commit`] has come back, so no patient data reaches a handler before its row is
//!   on disk; a batch that fails fails every read in it and appends nothing.
//!
//! A write may also go through the group commit ([`Store::write_grouped`], used where
//! concurrent writes are many and small: questionnaire submissions): the writer task runs it in
//! its shared transaction, in a savepoint of its own, so one that fails is undone alone, and
//! answers it only after the batch's commit.
//!
//! The chain stays one gap-free sequence because every append — a write's, or a batch's —
//! happens under the chain lock: SQLite's single writer (the in-process queue, then
//! `BEGIN IMMEDIATE`), or on PostgreSQL a transaction-scoped advisory lock, which holds across
//! every process on the database.

use crate::db::{Db, Tx, exec, fetch_opt, on, values_list};
use crate::error::{Result, StoreError};
use crate::{Store, new_id, now};
use kap_domain::audit::Actor;
use kap_domain::audit::{AuditAction, AuditEntry, AuditKey, GENESIS, Subject, chain_hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

pub(crate) struct Audited {
    tx: Tx,
    key: Arc<AuditKey>,
    actor: Actor,
    recorded: u32,
    /// A read's rows, waiting for the group commit; `None` for a write, whose rows are
    /// appended as they are recorded.
    pending: Option<(GroupCommit, Vec<Row>)>,
    /// The chain's head as this transaction left it, once it holds the chain lock: the next
    /// row chains onto it without asking the database again.
    head: Option<ChainHead>,
}

/// The last row of the chain: its number and hash.
type ChainHead = (i64, String);

/// One audit row before it has a place in the chain.
struct Row {
    actor: Actor,
    action: AuditAction,
    subject: Subject,
}

impl Store {
    /// Opens an audited write transaction acting as `actor`.
    pub(crate) async fn audited(&self, actor: &Actor) -> Result<Audited> {
        Ok(Audited {
            tx: self.db.begin().await?,
            key: self.key.clone(),
            actor: actor.clone(),
            recorded: 0,
            pending: None,
            head: None,
        })
    }

    /// Opens an audited write transaction about a clinic's records: its rows belong to that
    /// clinic (and show in its audit log) whoever acts — staff of the clinic, or the system.
    pub(crate) async fn audited_in(&self, actor: &Actor, clinic_id: uuid::Uuid) -> Result<Audited> {
        self.audited(&in_clinic(actor, clinic_id)).await
    }

    /// Opens an audited read acting as `actor`: a read-only snapshot whose audit rows go to the
    /// group commit when it commits. Anything that changes data must use [`Store::audited`].
    pub(crate) async fn audited_read(&self, actor: &Actor) -> Result<Audited> {
        Ok(Audited {
            tx: self.db.begin_read().await?,
            key: self.key.clone(),
            actor: actor.clone(),
            recorded: 0,
            pending: Some((self.group_commit(), Vec::new())),
            head: None,
        })
    }

    /// Opens an audited read about a clinic's records (as [`Store::audited_in`] for writes).
    pub(crate) async fn audited_read_in(
        &self,
        actor: &Actor,
        clinic_id: uuid::Uuid,
    ) -> Result<Audited> {
        self.audited_read(&in_clinic(actor, clinic_id)).await
    }

    /// Appends one audit row, for events with no other write (a failed login, a refused
    /// access, a patient opening a link): through the group commit, durable when this returns.
    pub async fn audit_only(&self, actor: &Actor, action: AuditAction, s: Subject) -> Result<()> {
        self.group_commit()
            .append(vec![Row {
                actor: actor.clone(),
                action,
                subject: s,
            }])
            .await
    }

    /// Runs `work` as a write in the group commit: inside the writer task's shared
    /// transaction, in a savepoint of its own, answered only once the batch's commit is
    /// durable. Several concurrent writes then share one commit (and one wait for the disk)
    /// instead of queueing for the write lock one by one. `work` is given the audited
    /// transaction and gives it back with its result; a failed `work` is undone alone, and a
    /// `work` that recorded no audit row is refused ([`StoreError::Unaudited`]) and undone.
    pub(crate) async fn write_grouped<T, F, Fut>(&self, actor: &Actor, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Audited) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = (Audited, Result<T>)> + Send + 'static,
    {
        let (done, wait) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |a| {
            Box::pin(async move {
                let (a, r) = work(a).await;
                let r = match r {
                    Ok(_) if a.recorded == 0 => Err(StoreError::Unaudited),
                    r => r,
                };
                match r {
                    Ok(value) => {
                        let answer: Deliver = Box::new(move |outcome: Outcome| {
                            let _ =
                                done.send(outcome.map(|()| value).map_err(StoreError::AuditWriter));
                        });
                        (a, Some(answer))
                    }
                    Err(e) => {
                        let _ = done.send(Err(e));
                        (a, None)
                    }
                }
            })
        });
        self.group_commit()
            .queue
            .send(Item::Write(actor.clone(), job))
            .map_err(|_| StoreError::AuditWriter("the audit writer has stopped".into()))?;
        wait.await.unwrap_or_else(|_| {
            Err(StoreError::AuditWriter(
                "the audit writer stopped before the write was committed".into(),
            ))
        })
    }

    /// How many reads have handed rows to the group commit since this store was opened (for
    /// tests that must know a read is waiting for its batch).
    pub fn audit_batches_submitted(&self) -> u64 {
        self.group_commit().submitted.load(Ordering::SeqCst)
    }

    fn group_commit(&self) -> GroupCommit {
        self.group
            .get_or_init(|| GroupCommit::start(self.db.clone(), self.key.clone()))
            .clone()
    }
}

pub(crate) fn in_clinic(actor: &Actor, clinic_id: uuid::Uuid) -> Actor {
    Actor {
        clinic_id: Some(clinic_id),
        ..actor.clone()
    }
}

impl Audited {
    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub(crate) fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Records `action` on `subject`: appended now in a write, handed to the group commit with
    /// the read's other rows when a read commits.
    pub(crate) async fn record(&mut self, action: AuditAction, subject: Subject) -> Result<()> {
        match &mut self.pending {
            None => {
                let row = [(&self.actor, action, subject)];
                append(&mut self.tx, &self.key, &mut self.head, &row).await?;
            }
            Some((_, rows)) => rows.push(Row {
                actor: self.actor.clone(),
                action,
                subject,
            }),
        }
        self.recorded += 1;
        Ok(())
    }

    /// Commits the change with its audit rows, or ends the read and waits until its rows are
    /// durable; refuses if nothing was recorded.
    pub(crate) async fn commit(self) -> Result<()> {
        if self.recorded == 0 {
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await?;
        match self.pending {
            None => Ok(()),
            Some((group, rows)) => group.append(rows).await,
        }
    }
}

/// The most rows one batch appends; more waiting readers go into the next batch. Large enough
/// that a full queue of requests fits in one commit, small enough to bound one transaction.
const MAX_BATCH_ROWS: usize = 4096;

/// The queue to the one task that appends reads' audit rows in batches (see the module
/// documentation). Cheap to clone; the task ends when the last store holding it is dropped.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Item>,
    submitted: Arc<AtomicU64>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

/// A batch's outcome as each of its reads hears it (the error's words: one error, many reads).
type Outcome = std::result::Result<(), String>;

/// What a read waits on until its batch is durable.
type Durable = oneshot::Receiver<Outcome>;

/// A read's rows, and how to wake it.
struct Waiting {
    rows: Vec<Row>,
    done: oneshot::Sender<Outcome>,
}

/// What the writer task is handed: a read's rows, or a write to run in the shared transaction.
enum Item {
    Read(Waiting),
    Write(Actor, Job),
}

impl Item {
    fn sort_into(self, reads: &mut Vec<Waiting>, writes: &mut Vec<(Actor, Job)>) {
        match self {
            Item::Read(w) => reads.push(w),
            Item::Write(actor, job) => writes.push((actor, job)),
        }
    }
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// A write run by the writer task (see [`Store::write_grouped`]): given the audited
/// transaction, it gives it back with either how to answer its caller once the commit's outcome
/// is known, or `None` when it failed (its caller has had the error; its savepoint is undone).
type Job = Box<dyn FnOnce(Audited) -> BoxFuture<(Audited, Option<Deliver>)> + Send>;

/// Answers a grouped write's caller with its value, or with the error of the shared commit.
type Deliver = Box<dyn FnOnce(Outcome) + Send>;

impl GroupCommit {
    fn start(db: Db, key: Arc<AuditKey>) -> GroupCommit {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(db, key, rx));
        GroupCommit {
            queue,
            submitted: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues `rows` and waits until they are durable. Once queued, the rows are appended even
    /// if the caller stops waiting (a client that went away): its data was never sent, and the
    /// row records that it was read.
    /// Inside an [`AuditScope`] the wait is left to the scope, which waits once for all of a
    /// request's rows before its response goes out.
    async fn append(&self, rows: Vec<Row>) -> Result<()> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send(Item::Read(Waiting { rows, done }))
            .map_err(|_| StoreError::AuditWriter("the audit writer has stopped".into()))?;
        self.submitted.fetch_add(1, Ordering::SeqCst);
        match AUDIT_SCOPE.try_with(AuditScope::clone) {
            Ok(scope) => {
                scope.lock().push(wait);
                Ok(())
            }
            Err(_) => durable(wait).await,
        }
    }
}

async fn durable(wait: Durable) -> Result<()> {
    match wait.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError::AuditWriter(e)),
        Err(_) => Err(StoreError::AuditWriter(
            "the audit writer stopped before the batch was written".into(),
        )),
    }
}

tokio::task_local! {
    static AUDIT_SCOPE: AuditScope;
}

/// A request's audited reads, answered together: inside [`AuditScope::run`] a read hands its
/// rows to the group commit and returns its data at once, and [`AuditScope::durable`] waits
/// until every row handed over is on disk. The web layer runs each page view in a scope and
/// sends nothing until `durable` has succeeded — a page of five sections then waits for one
/// batch, not five in a row — and answers 500 with nothing read when it fails. Outside a scope
/// (writes' handlers, the command line, tests) each read waits for its own rows.
#[derive(Clone, Default)]
pub struct AuditScope(Arc<std::sync::Mutex<Vec<Durable>>>);

impl AuditScope {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Durable>> {
        // The lock guards a plain list and is never held across an await or a panic point.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` with the reads inside it deferring their wait to this scope.
    pub async fn run<F: std::future::Future>(&self, work: F) -> F::Output {
        AUDIT_SCOPE.scope(self.clone(), work).await
    }

    /// Waits until every audit row handed over in this scope is durable; the first failure
    /// is the answer (every row is still waited for, so none is left behind unobserved).
    pub async fn durable(&self) -> Result<()> {
        let waits = std::mem::take(&mut *self.lock());
        let mut outcome = Ok(());
        for w in waits {
            let r = durable(w).await;
            if outcome.is_ok() {
                outcome = r;
            }
        }
        outcome
    }
}

/// The writer task: takes the first item, takes the chain lock, then every item that queued
/// meanwhile (up to [`MAX_BATCH_ROWS`] rows and writes) joins the batch. Writes run first, in
/// queue order, each in a savepoint of its own, so one that fails is undone alone; then the
/// reads' rows are appended; one commit makes them all durable, and only then is anyone
/// answered — with the commit's outcome, so a failed commit fails every request in the batch.
async fn write_batches(db: Db, key: Arc<AuditKey>, mut rx: mpsc::UnboundedReceiver<Item>) {
    while let Some(first) = rx.recv().await {
        let mut reads = Vec::new();
        let mut writes = Vec::new();
        let mut answers: Vec<Deliver> = Vec::new();
        first.sort_into(&mut reads, &mut writes);
        let outcome = async {
            let mut tx = db.begin().await?;
            // Read under the chain lock, before the drain, so everything that queues while
            // the lock is awaited joins this batch; each write and the reads chain on from it.
            let mut head = Some(chain_head(&mut tx).await?);
            let mut size = reads.iter().map(|w| w.rows.len()).sum::<usize>() + writes.len();
            while size < MAX_BATCH_ROWS
                && let Ok(item) = rx.try_recv()
            {
                size += match &item {
                    Item::Read(w) => w.rows.len(),
                    Item::Write(..) => 1,
                };
                item.sort_into(&mut reads, &mut writes);
            }
            for (actor, job) in std::mem::take(&mut writes) {
                exec!(tx(&mut tx), "SAVEPOINT grouped_write");
                let before = head.clone();
                let a = Audited {
                    tx,
                    key: key.clone(),
                    actor,
                    recorded: 0,
                    pending: None,
                    head: head.take(),
                };
                // Its own task, so that a write that panics fails this batch, not the writer.
                let (a, answer) = tokio::spawn(job(a)).await.map_err(|e| {
                    StoreError::AuditWriter(format!("a write in the batch failed: {e}"))
                })?;
                tx = a.tx;
                match answer {
                    Some(answer) => {
                        exec!(tx(&mut tx), "RELEASE SAVEPOINT grouped_write");
                        answers.push(answer);
                        head = a.head;
                    }
                    None => {
                        // Undone, with any rows it appended: the head is where it was.
                        head = before;
                        exec!(tx(&mut tx), "ROLLBACK TO SAVEPOINT grouped_write");
                        exec!(tx(&mut tx), "RELEASE SAVEPOINT grouped_write");
                    }
                }
            }
            let all: Vec<_> = reads
                .iter()
                .flat_map(|w| &w.rows)
                .map(|r| (&r.actor, r.action, r.subject.clone()))
                .collect();
            if !all.is_empty() {
                append(&mut tx, &key, &mut head, &all).await?;
            }
            tx.commit().await
        }
        .await;
        // Each failed request reports the error (the web layer logs it with the request).
        let outcome = outcome.map_err(|e: StoreError| e.to_string());
        for answer in answers {
            answer(outcome.clone());
        }
        for w in reads {
            // A reader that went away no longer listens; its row is written all the same.
            let _ = w.done.send(outcome.clone());
        }
    }
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// On PostgreSQL, takes the transaction-scoped advisory lock that orders appends to the chain
/// across every connection and process; SQLite's write transaction already holds its lock.
pub(crate) async fn chain_lock(tx: &mut Tx) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(727001)")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// The most rows in one INSERT: 14 values each stays under both backends' limit on bound
/// parameters.
const ROWS_PER_INSERT: usize = 256;

/// Takes the chain lock and reads the chain's head under it.
async fn chain_head(tx: &mut Tx) -> Result<ChainHead> {
    chain_lock(tx).await?;
    let head = fetch_opt!(
        tx(tx),
        Head,
        "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    );
    Ok(head.map_or((0, GENESIS.to_owned()), |h| (h.seq, h.hash)))
}

/// Appends `rows` to the chain inside `tx`, in order, after `head` — read under the chain lock
/// when not yet known in this transaction — so two transactions never chain onto the same
/// head; leaves `head` at the last row appended (unknown again if the append failed).
async fn append(
    tx: &mut Tx,
    key: &AuditKey,
    head: &mut Option<ChainHead>,
    rows: &[(&Actor, AuditAction, Subject)],
) -> Result<()> {
    let (mut seq, mut prev_hash) = match head.take() {
        Some(h) => h,
        None => chain_head(tx).await?,
    };
    let at = now();
    let mut chained = Vec::with_capacity(rows.len());
    for (actor, action, subject) in rows {
        seq += 1;
        let e = AuditEntry::new(seq, new_id(), at, actor, *action, subject.clone());
        let hash = chain_hash(key, &prev_hash, &e);
        chained.push((e, std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    for part in chained.chunks(ROWS_PER_INSERT) {
        if let [(e, prev, hash)] = part {
            exec!(
                tx(tx),
                "INSERT INTO audit_event (seq, id, at, actor_id, actor_kind, action, record_kind,
                    record_id, patient_id, clinic_id, address, detail, prev_hash, hash)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
                e.seq,
                e.id,
                e.at,
                e.actor_id,
                &e.actor_kind,
                &e.action,
                &e.record_kind,
                e.record_id,
                e.patient_id,
                e.clinic_id,
                &e.address,
                &e.detail,
                prev,
                hash
            );
            continue;
        }
        let sql = format!(
            "INSERT INTO audit_event (seq, id, at, actor_id, actor_kind, action, record_kind,
                record_id, patient_id, clinic_id, address, detail, prev_hash, hash) VALUES {}",
            values_list(part.len(), 14)
        );
        on!(tx(tx), c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (e, prev, hash) in part {
                q = q
                    .bind(e.seq)
                    .bind(e.id)
                    .bind(e.at)
                    .bind(e.actor_id)
                    .bind(&e.actor_kind)
                    .bind(&e.action)
                    .bind(&e.record_kind)
                    .bind(e.record_id)
                    .bind(e.patient_id)
                    .bind(e.clinic_id)
                    .bind(&e.address)
                    .bind(&e.detail)
                    .bind(prev)
                    .bind(hash);
            }
            q.execute(c).await?;
        });
    }
    *head = Some((seq, prev_hash));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::db::{exec, scalar};
    use kap_domain::audit::{Actor, AuditAction, Subject};

    #[tokio::test]
    async fn a_change_without_an_audit_row_is_refused_and_leaves_nothing()
    -> Result<(), crate::StoreError> {
        let store = crate::testing::store("sqlite").await.expect("store");
        let mut a = store.audited(&Actor::system()).await.expect("tx");
        exec!(
            tx(a.tx()),
            "INSERT INTO clinic (id, name, slug, crisis_resources, created_at)
             VALUES ($1, 'X', 'x', '', $2)",
            crate::new_id(),
            crate::now()
        );
        let r = a.commit().await;
        assert!(matches!(r, Err(crate::StoreError::Unaudited)), "{r:?}");
        let n = scalar!(db(&store.db), i64, "SELECT COUNT(*) FROM clinic");
        assert_eq!(n, 0);
        let mut a = store.audited(&Actor::system()).await.expect("tx");
        a.record(AuditAction::LoginFailed, Subject::none())
            .await
            .expect("record");
        a.commit().await.expect("an audited transaction commits");
        Ok(())
    }
}
