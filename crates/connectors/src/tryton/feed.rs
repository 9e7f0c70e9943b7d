//! The change feed every "changed since" read pages through.
//!
//! Tryton leaves `write_date` NULL until a record is first modified, so a
//! record's last change is `write_date`, or `create_date` when that is
//! NULL. Tryton's RPC cannot order by that expression, so a page is the
//! merge of two queries, each ordered by the column it filters on:
//! `write_date >= since` ordered by `write_date, id`, and `write_date =
//! null AND create_date >= since` ordered by `create_date, id`. Taking the
//! first `PAGE` of the merge by (change time, id) is exact as long as a
//! full list is not read past its last row — which the merge stops at.
//! The token is the last (change time, id) read; the next page asks for
//! later times, or the same time and a higher id. Times keep Tryton's
//! microseconds.

use super::rpc::{dec_datetime, enc_datetime};
use super::Tryton;
use crate::Result;
use chrono::{DateTime, Utc};
use ferry_domain::ConnectorError;
use serde_json::{json, Value};

pub(super) const PAGE: usize = 200;

/// Where a change feed is: the last change time and id read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) at: DateTime<Utc>,
    pub(super) id: i64,
}

impl Mark {
    pub(super) fn token(&self) -> String {
        format!("{}|{}", self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ"), self.id)
    }

    pub(super) fn parse(token: &str) -> Result<Self> {
        let bad = || ConnectorError::Protocol(format!("bad Tryton page token {token:?}"));
        let (at, id) = token.split_once('|').ok_or_else(bad)?;
        Ok(Self {
            at: DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// A record's last change: `write_date`, else `create_date`.
pub(super) fn changed_at(row: &Value) -> Option<DateTime<Utc>> {
    row.get("write_date").and_then(dec_datetime).or_else(|| row.get("create_date").and_then(dec_datetime))
}

/// The domain of records changed after `mark`, or at or after `since`, on `column`.
fn after(column: &str, since: Option<DateTime<Utc>>, mark: Option<Mark>) -> Value {
    match (mark, since) {
        (Some(m), _) => {
            json!(["OR", [[column, ">", enc_datetime(m.at)]], [[column, "=", enc_datetime(m.at)], ["id", ">", m.id]]])
        }
        (None, Some(t)) => json!([[column, ">=", enc_datetime(t)]]),
        (None, None) => json!([]),
    }
}

/// Merges two lists sorted by (change time, id): at most `PAGE` rows,
/// never past the last row of a list that was full (rows beyond it were
/// not read).
pub(super) fn merge(written: Vec<Value>, created: Vec<Value>) -> (Vec<Value>, bool) {
    let key = |r: &Value| (changed_at(r), r.get("id").and_then(Value::as_i64));
    let limit = |rows: &Vec<Value>| if rows.len() >= PAGE { rows.last().map(key) } else { None };
    let stop = [limit(&written), limit(&created)].into_iter().flatten().min();
    let mut all: Vec<Value> = written.into_iter().chain(created).collect();
    all.sort_by_key(key);
    if let Some(stop) = stop {
        all.retain(|r| key(r) <= stop);
    }
    let more = stop.is_some() || all.len() > PAGE;
    all.truncate(PAGE);
    (all, more)
}

impl Tryton {
    /// One page of `model` records matching `domain` changed at or after
    /// `since`, oldest change first, and the token of the next page.
    pub(super) async fn changed_page(
        &self,
        model: &str,
        domain: Value,
        since: Option<DateTime<Utc>>,
        after_token: Option<&str>,
        fields: &[&str],
        context: Value,
    ) -> Result<(Vec<Value>, Option<String>)> {
        let mark = after_token.map(Mark::parse).transpose()?;
        let mut fields = fields.to_vec();
        fields.extend(["write_date", "create_date"]);
        let written = json!([domain, ["write_date", "!=", null], after("write_date", since, mark)]);
        let created = json!([domain, ["write_date", "=", null], after("create_date", since, mark)]);
        let order = |c: &str| json!([[c, "ASC"], ["id", "ASC"]]);
        let written = self.search_read(model, written, 0, Some(PAGE), order("write_date"), &fields, &context).await?;
        let created = self.search_read(model, created, 0, Some(PAGE), order("create_date"), &fields, &context).await?;
        let (rows, more) = merge(written, created);
        let next = if more {
            rows.last().and_then(|r| Some(Mark { at: changed_at(r)?, id: r.get("id")?.as_i64()? }.token()))
        } else {
            None
        };
        Ok((rows, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, write: Option<u32>, create: u32) -> Value {
        let t = |s: u32| json!({"__class__": "datetime", "year": 2026, "month": 11, "day": 26, "hour": 10, "minute": 0, "second": s, "microsecond": 0});
        json!({ "id": id, "write_date": write.map(t), "create_date": t(create) })
    }

    #[test]
    fn never_modified_records_sort_by_creation() {
        let (rows, more) = merge(vec![row(1, Some(5), 0), row(2, Some(9), 1)], vec![row(3, None, 7)]);
        let ids: Vec<i64> = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
        assert_eq!(ids, [1, 3, 2], "a record with write_date NULL counts from its create_date");
        assert!(!more, "neither list was full");
    }

    #[test]
    fn a_full_list_is_not_read_past() {
        let written: Vec<Value> = (0..PAGE as i64).map(|i| row(i + 1, Some(10), 0)).collect();
        let created = vec![row(9000, None, 11)];
        let (rows, more) = merge(written, created);
        assert_eq!(rows.len(), PAGE);
        assert!(more && rows.iter().all(|r| r["id"] != 9000), "the later created row waits for the next page");
    }

    #[test]
    fn tokens_round_trip() {
        let m = Mark { at: changed_at(&row(4, None, 3)).expect("time"), id: 4 };
        assert_eq!(Mark::parse(&m.token()).ok(), Some(m));
        assert!(Mark::parse("garbage").is_err());
    }
}
