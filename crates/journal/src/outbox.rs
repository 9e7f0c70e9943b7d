//! The outbox: every write to an external system is first a row here,
//! committed together with the page that decided it (and the cursor that
//! moved past that page). A row is `pending` until a worker takes it
//! (`in_flight`), then `done` with the remote key, or `dead` with the
//! remote's message for a person to fix and replay.

use crate::error::{JournalError, Result};
use crate::runs::NewEvent;
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use ferry_domain::CursorState;
use rusqlite::{params, Row};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    InFlight,
    Done,
    Dead,
    /// Replaced by a newer write of the same record before it ran.
    Superseded,
}

impl OutboxState {
    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "in_flight" => Ok(Self::InFlight),
            "done" => Ok(Self::Done),
            "dead" => Ok(Self::Dead),
            "superseded" => Ok(Self::Superseded),
            other => Err(JournalError::BadValue(format!("outbox state {other:?}"))),
        }
    }
}

/// A write to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWrite {
    /// Unique per intended effect, e.g. `orders:<store>:<order id>-><erp>`.
    pub idempotency_key: String,
    pub source_id: String,
    pub target_id: String,
    pub entity: String,
    pub entity_key: String,
    pub op: String,
    pub payload: serde_json::Value,
    /// A newer value of the same record: older waiting writes of it are
    /// superseded (for writes that set a value, like stock).
    pub supersedes: bool,
}

/// What a landed write leads to (see `Journal::finish_writes`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Followups<'a> {
    pub writes: &'a [NewWrite],
    pub parcel: Option<&'a crate::NewParcel>,
    /// Leave the record's link as it is (a write that changes a record
    /// both sides already have, whose link and merge base the caller keeps).
    pub keep_link: bool,
}

/// One write that landed, for `Journal::finish_writes`.
pub struct Finished<'a> {
    pub row: &'a OutboxRow,
    pub remote_key: &'a str,
    pub event: NewEvent,
    pub then: Followups<'a>,
}

/// A queued write as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub idempotency_key: String,
    pub source_id: String,
    pub target_id: String,
    pub entity: String,
    pub entity_key: String,
    pub op: String,
    pub payload: serde_json::Value,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub remote_key: Option<String>,
}

/// Counts of writes by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub done: u64,
    pub pending: u64,
    pub dead: u64,
}

/// Everything one fetched page changes, committed at once.
#[derive(Debug)]
pub struct PageCommit<'a> {
    pub run_id: i64,
    pub source_id: &'a str,
    pub entity: &'a str,
    pub cursor: &'a CursorState,
    pub writes: Vec<NewWrite>,
    pub events: Vec<NewEvent>,
    pub fetched: u64,
}

fn row_to_outbox(r: &Row<'_>) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        idempotency_key: r.get(1)?,
        source_id: r.get(2)?,
        target_id: r.get(3)?,
        entity: r.get(4)?,
        entity_key: r.get(5)?,
        op: r.get(6)?,
        payload: serde_json::from_str(&r.get::<_, String>(7)?)?,
        state: OutboxState::parse(&r.get::<_, String>(8)?)?,
        attempts: r.get(9)?,
        next_attempt_at: parse_ts(&r.get::<_, String>(10)?)?,
        last_error: r.get(11)?,
        remote_key: r.get(12)?,
    })
}

const SELECT: &str = "SELECT id, idempotency_key, source_id, target_id, entity, entity_key, op, payload, state,
    attempts, next_attempt_at, last_error, remote_key FROM outbox";

/// Inserts writes (a key already queued is ignored; a superseding write
/// retires the same record's older waiting ones). Returns how many were new.
pub(crate) fn queue(tx: &rusqlite::Transaction<'_>, writes: &[NewWrite], ts: &str) -> Result<u64> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (idempotency_key, source_id, target_id, entity, entity_key, op, payload,
            state, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8, ?8)
         ON CONFLICT(idempotency_key) DO NOTHING",
    )?;
    let mut supersede = tx.prepare_cached(
        "UPDATE outbox SET state = 'superseded', updated_at = ?4
         WHERE entity = ?1 AND entity_key = ?2 AND target_id = ?3 AND state IN ('pending', 'dead')",
    )?;
    let mut queued = 0u64;
    for w in writes {
        if w.supersedes {
            supersede.execute(params![w.entity, w.entity_key, w.target_id, ts])?;
        }
        queued += insert.execute(params![
            w.idempotency_key,
            w.source_id,
            w.target_id,
            w.entity,
            w.entity_key,
            w.op,
            w.payload.to_string(),
            ts
        ])? as u64;
    }
    Ok(queued)
}

impl Journal {
    /// Queues writes outside a page (e.g. a merge's), in one transaction.
    pub fn queue_writes(&self, writes: &[NewWrite], now: DateTime<Utc>) -> Result<u64> {
        let ts = format_ts(now);
        self.write(|tx| queue(tx, writes, &ts))
    }

    /// Commits a page: its queued writes (a key already queued is ignored),
    /// its events, the run's counters and the advanced cursor, all in one
    /// transaction. Returns how many writes were newly queued.
    pub fn commit_page(&self, page: PageCommit<'_>, now: DateTime<Utc>) -> Result<u64> {
        let ts = format_ts(now);
        self.write(|tx| {
            let queued = queue(tx, &page.writes, &ts)?;
            for e in &page.events {
                crate::runs::insert_event(tx, Some(page.run_id), e, &ts)?;
            }
            tx.prepare_cached("UPDATE runs SET fetched = fetched + ?2, queued = queued + ?3 WHERE id = ?1")?
                .execute(params![page.run_id, page.fetched as i64, queued as i64])?;
            tx.prepare_cached(
                "INSERT INTO cursors (connection_id, entity, state, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(connection_id, entity) DO UPDATE SET state = ?3, updated_at = ?4",
            )?
            .execute(params![page.source_id, page.entity, serde_json::to_string(page.cursor)?, ts])?;
            Ok(queued)
        })
    }

    /// Which of `keys` already have a queued or finished write from
    /// `source_id` to `target_id` for `entity`.
    pub fn known_entity_keys(
        &self,
        entity: &str,
        source_id: &str,
        target_id: &str,
        keys: &[String],
    ) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT 1 FROM outbox WHERE entity = ?1 AND source_id = ?2 AND target_id = ?3 AND entity_key = ?4
                 UNION ALL
                 SELECT 1 FROM links WHERE entity = ?1 AND source_id = ?2 AND target_id = ?3 AND source_key = ?4
                 LIMIT 1",
            )?;
            let mut known = HashSet::new();
            for k in keys {
                if stmt.exists(params![entity, source_id, target_id, k])? {
                    known.insert(k.clone());
                }
            }
            Ok(known)
        })
    }

    /// Which of `keys` (idempotency keys) are already in the outbox.
    pub fn queued_keys(&self, keys: &[String]) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM outbox WHERE idempotency_key = ?1")?;
            let mut found = HashSet::new();
            for k in keys {
                if stmt.exists([k])? {
                    found.insert(k.clone());
                }
            }
            Ok(found)
        })
    }

    /// Writes of `entity` for `target_id` that may run now, oldest first: pending rows
    /// that are due, and rows left in flight by a crash.
    pub fn due_writes(&self, target_id: &str, entity: &str, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxRow>> {
        self.read(|c| {
            // Each state read in the order queued (index outbox_queue), so a
            // long queue is not sorted whole for every batch.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT * FROM (SELECT * FROM ({SELECT} INDEXED BY outbox_queue WHERE target_id = ?1 AND entity = ?4
                     AND state = 'pending' AND next_attempt_at <= ?2 ORDER BY id LIMIT ?3)
                 UNION ALL
                 SELECT * FROM ({SELECT} INDEXED BY outbox_queue WHERE target_id = ?1 AND entity = ?4
                     AND state = 'in_flight' AND next_attempt_at <= ?2 ORDER BY id LIMIT ?3))
                 ORDER BY id LIMIT ?3"
            ))?;
            let mut rows = stmt.query(params![target_id, format_ts(now), limit, entity])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_outbox(r)?);
            }
            Ok(out)
        })
    }

    /// The earliest time a pending write for `target_id` becomes due.
    pub fn next_write_due(&self, target_id: &str, entity: &str) -> Result<Option<DateTime<Utc>>> {
        let raw: Option<String> = self.read(|c| {
            Ok(c.query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE target_id = ?1 AND entity = ?2 AND state IN ('pending', 'in_flight')",
                [target_id, entity],
                |r| r.get(0),
            )?)
        })?;
        raw.as_deref().map(parse_ts).transpose()
    }

    /// Marks a write as being executed; counts the attempt. (The app uses
    /// the batch call; this one-row case is for tests.)
    #[cfg(test)]
    pub fn start_write(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.start_writes(&[id], now)
    }

    /// Marks a batch of writes as being executed, in one transaction; each
    /// counts an attempt.
    pub fn start_writes(&self, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, format_ts(now)])?;
            }
            Ok(())
        })
    }

    /// Records success: the row is done and the link from source record to
    /// remote record exists, in one transaction. (The app uses the batch
    /// call; this one-row case is for tests.)
    #[cfg(test)]
    pub fn finish_write(
        &self,
        row: &OutboxRow,
        remote_key: &str,
        event: &NewEvent,
        run_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = Finished { row, remote_key, event: event.clone(), then: Followups::default() };
        self.finish_writes(&[done], run_id, now)
    }

    /// Records the success of several writes in one transaction: for each,
    /// the writes that must follow it and a booked parcel are queued with
    /// it, so a crash can never leave a done write without what it leads to.
    /// A crash before it leaves them in flight, and each is looked up again
    /// before anything is made twice.
    pub fn finish_writes(&self, done: &[Finished<'_>], run_id: Option<i64>, now: DateTime<Utc>) -> Result<()> {
        let ts = format_ts(now);
        self.write(|tx| {
            for f in done {
                finish_in(tx, f.row, f.remote_key, &f.event, run_id, &f.then, &ts)?;
            }
            Ok(())
        })
    }

    /// Puts a write back to wait until `next_at`. `counts` false gives the
    /// attempt back (rate limits are not failures).
    pub fn retry_write(
        &self,
        id: i64,
        error: &str,
        next_at: DateTime<Utc>,
        counts: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE outbox SET state = 'pending', last_error = ?2, next_attempt_at = ?3, updated_at = ?4,
                    attempts = attempts - CASE WHEN ?5 THEN 0 ELSE 1 END WHERE id = ?1",
            )?
            .execute(params![id, error, format_ts(next_at), format_ts(now), counts])?;
            Ok(())
        })
    }

    /// Parks a write with the remote's message; logs why.
    pub fn dead_letter_write(
        &self,
        id: i64,
        error: &str,
        event: &NewEvent,
        run_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ts = format_ts(now);
        self.write(|tx| {
            tx.prepare_cached("UPDATE outbox SET state = 'dead', last_error = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, error, ts])?;
            if let Some(run) = run_id {
                tx.prepare_cached("UPDATE runs SET failed = failed + 1 WHERE id = ?1")?.execute([run])?;
            }
            crate::runs::insert_event(tx, run_id, event, &ts)?;
            Ok(())
        })
    }

    /// Dead-lettered writes, oldest first.
    pub fn dead_writes(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} WHERE state = 'dead' ORDER BY id LIMIT ?1"))?;
            let mut rows = stmt.query([limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_outbox(r)?);
            }
            Ok(out)
        })
    }

    /// Writes still to be made (queued, or in flight), oldest first.
    pub fn waiting_writes(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{SELECT} WHERE state IN ('pending', 'in_flight') ORDER BY id LIMIT ?1"))?;
            let mut rows = stmt.query([limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_outbox(r)?);
            }
            Ok(out)
        })
    }

    /// Puts dead-lettered writes back in the queue with fresh attempts: one
    /// (`Some(id)`) or all (`None`). Returns how many. The lookup before
    /// each create still runs, so a replay can never duplicate.
    pub fn replay_writes(&self, id: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
        let ts = format_ts(now);
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2
                 WHERE state = 'dead' AND (?1 IS NULL OR id = ?1)",
                )?
                .execute(params![id, ts])?;
            Ok(n as u64)
        })
    }

    /// The newest write of one record to one target that was not superseded.
    /// The newest write's id (0 for none).
    pub fn last_write_id(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT COALESCE(MAX(id), 0) FROM outbox", [], |r| r.get(0))?))
    }

    /// Waiting writes queued after write `id`, in order.
    pub fn pending_writes_after(&self, id: i64) -> Result<Vec<OutboxRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} WHERE id > ?1 AND state = 'pending' ORDER BY id"))?;
            let mut rows = stmt.query([id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_outbox(r)?);
            }
            Ok(out)
        })
    }

    pub fn latest_write(&self, entity: &str, entity_key: &str, target_id: &str) -> Result<Option<OutboxRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{SELECT} WHERE entity = ?1 AND entity_key = ?2 AND target_id = ?3 AND state != 'superseded' ORDER BY id DESC LIMIT 1"
            ))?;
            let mut rows = stmt.query(params![entity, entity_key, target_id])?;
            rows.next()?.map(row_to_outbox).transpose()
        })
    }

    /// Counts of writes that touch `connection_id` as source or target (all
    /// connections when `None`), of one entity or all.
    pub fn outbox_counts(&self, connection_id: Option<&str>, entity: Option<&str>) -> Result<OutboxCounts> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT state, count(*) FROM outbox WHERE (?1 IS NULL OR source_id = ?1 OR target_id = ?1)
                 AND (?2 IS NULL OR entity = ?2) GROUP BY state",
            )?;
            let mut rows = stmt.query(params![connection_id, entity])?;
            let mut counts = OutboxCounts::default();
            while let Some(r) = rows.next()? {
                let n = r.get::<_, i64>(1)? as u64;
                match OutboxState::parse(&r.get::<_, String>(0)?)? {
                    OutboxState::Done => counts.done += n,
                    OutboxState::Pending | OutboxState::InFlight => counts.pending += n,
                    OutboxState::Dead => counts.dead += n,
                    OutboxState::Superseded => {}
                }
            }
            Ok(counts)
        })
    }
}

/// What the outbox did in a period, per entity: (entity, done, dead).
pub type OutboxActivity = Vec<(String, u64, u64)>;

impl Journal {
    /// Writes finished or dead-lettered at or after `since`, per entity.
    pub fn outbox_activity_since(&self, since: DateTime<Utc>) -> Result<OutboxActivity> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT entity, sum(state = 'done'), sum(state = 'dead') FROM outbox
                 WHERE updated_at >= ?1 AND state IN ('done', 'dead') GROUP BY entity ORDER BY entity",
            )?;
            let rows = stmt.query_map([format_ts(since)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Conflicts waiting for a person.
    pub fn open_conflicts(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM conflicts WHERE state = 'open'", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }
}

/// One success, inside a transaction: followups, the row done, the link,
/// the run's count and the event.
fn finish_in(
    tx: &rusqlite::Transaction<'_>,
    row: &OutboxRow,
    remote_key: &str,
    event: &NewEvent,
    run_id: Option<i64>,
    then: &Followups<'_>,
    ts: &str,
) -> Result<()> {
    queue(tx, then.writes, ts)?;
    if let Some(p) = then.parcel {
        crate::parcels::insert(tx, p, ts)?;
    }

    tx.prepare_cached(
        "UPDATE outbox SET state = 'done', remote_key = ?2, last_error = NULL, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![row.id, remote_key, ts])?;
    if !then.keep_link {
        tx.prepare_cached(
            "INSERT INTO links (entity, source_id, source_key, target_id, target_key, snapshot, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(entity, source_id, source_key, target_id)
                 DO UPDATE SET target_key = ?5, snapshot = ?6, synced_at = ?7",
        )?
        .execute(params![
            row.entity,
            row.source_id,
            row.entity_key,
            row.target_id,
            remote_key,
            row.payload.to_string(),
            ts
        ])?;
    }
    if let Some(run) = run_id {
        tx.prepare_cached("UPDATE runs SET written = written + 1 WHERE id = ?1")?.execute([run])?;
    }
    crate::runs::insert_event(tx, run_id, event, ts)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::Level;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid")
    }

    fn write(key: &str) -> NewWrite {
        NewWrite {
            idempotency_key: format!("orders:shop:{key}->erp"),
            source_id: "shop".into(),
            target_id: "erp".into(),
            entity: "order".into(),
            entity_key: key.into(),
            op: "create".into(),
            payload: serde_json::json!({"id": key}),
            supersedes: false,
        }
    }

    fn commit(j: &Journal, run: i64, keys: &[&str], cursor: &CursorState) -> u64 {
        j.commit_page(
            PageCommit {
                run_id: run,
                source_id: "shop",
                entity: "order",
                cursor,
                writes: keys.iter().map(|k| write(k)).collect(),
                events: vec![],
                fetched: keys.len() as u64,
            },
            now(),
        )
        .expect("commit page")
    }

    #[test]
    fn a_key_is_queued_once_and_the_cursor_moves_with_the_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let run = j.start_run("shop", "orders", now()).expect("run");
        let cursor = CursorState { watermark: Some(now()), ..CursorState::default() };
        assert_eq!(commit(&j, run, &["1", "2"], &cursor), 2);
        assert_eq!(commit(&j, run, &["2", "3"], &cursor), 1, "key 2 was already queued");
        assert_eq!(j.cursor("shop", "order").expect("cursor"), cursor, "cursor committed with the page");
        let known = j.known_entity_keys("order", "shop", "erp", &["1".into(), "9".into()]).expect("known");
        assert_eq!(known, HashSet::from(["1".to_string()]));
    }

    #[test]
    fn write_lifecycle_done_retry_dead() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let run = j.start_run("shop", "orders", now()).expect("run");
        commit(&j, run, &["1", "2", "3"], &CursorState::default());
        let due = j.due_writes("erp", "order", now(), 10).expect("due");
        assert_eq!(due.len(), 3);
        let ev = NewEvent::new(Level::Info, "order", "1", "posted");

        j.start_write(due[0].id, now()).expect("start");
        let in_flight = j.due_writes("erp", "order", now(), 10).expect("due");
        assert_eq!(in_flight[0].state, OutboxState::InFlight, "a crashed in-flight row is still due (to be looked up)");
        j.finish_write(&due[0], "SO-1", &ev, Some(run), now()).expect("finish");

        j.start_write(due[1].id, now()).expect("start");
        let later = now() + chrono::Duration::seconds(30);
        j.retry_write(due[1].id, "502", later, true, now()).expect("retry");

        j.start_write(due[2].id, now()).expect("start");
        j.dead_letter_write(due[2].id, "customer missing", &ev, Some(run), now()).expect("dead");

        assert_eq!(j.due_writes("erp", "order", now(), 10).expect("due").len(), 0, "the retry waits until its time");
        assert_eq!(j.due_writes("erp", "order", later, 10).expect("due").len(), 1);
        assert_eq!(j.next_write_due("erp", "order").expect("next"), Some(later));
        assert_eq!(j.outbox_counts(Some("erp"), None).expect("counts"), OutboxCounts { done: 1, pending: 1, dead: 1 });

        let dead = j.dead_writes(10).expect("dead");
        assert_eq!(dead.iter().map(|r| r.id).collect::<Vec<_>>(), vec![due[2].id]);
        assert_eq!(dead[0].last_error.as_deref(), Some("customer missing"), "the remote's words are kept");
        assert_eq!(j.replay_writes(Some(due[0].id), now()).expect("replay done row"), 0, "only dead rows replay");
        assert_eq!(j.replay_writes(None, now()).expect("replay all"), 1);
        let again = j.due_writes("erp", "order", now(), 10).expect("due");
        assert_eq!((again.len(), again[0].attempts), (1, 0), "a replayed row is due now with fresh attempts");
        let known = j.known_entity_keys("order", "shop", "erp", &["1".into()]).expect("known");
        assert!(known.contains("1"), "a finished write is known through its link");
    }
}
