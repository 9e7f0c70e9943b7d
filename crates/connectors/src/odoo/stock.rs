//! Stock (`stock.quant` in internal locations: `quantity` on hand,
//! `reserved_quantity` promised to deliveries), the catalog
//! (`product.product`: `default_code`, `name`, `lst_price`, `active`), and
//! the change feed every "changed since" read pages through.
//!
//! Change feeds page by `write_date` (UTC text, to the second) and id, not
//! by offset: a record changed while we page moves to the end instead of
//! shifting the others past us. The page token is the last `write_date`
//! read and the ids already read at that second; the next page asks for
//! records at that second not read yet, or at any later second. This holds
//! whether the database keeps `write_date` to the second or finer.

use super::{decimal, many2one_id, many2one_name, parse_odoo_time, row_id, text, Odoo};
use crate::{Page, Result};
use chrono::{DateTime, Duration, Utc};
use ferry_domain::{CatalogField, CatalogItem, ConnectorError, Money, StockLevel, StockReading};
use serde_json::{json, Value};
use std::collections::HashMap;

const PAGE: usize = 200;

/// Where a change feed is: the last second read and the ids read at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mark {
    at: String,
    seen: Vec<i64>,
}

impl Mark {
    pub(super) fn parse(token: &str) -> Result<Self> {
        let bad = || ConnectorError::Protocol(format!("bad Odoo page token {token:?}"));
        let (at, ids) = token.split_once('|').ok_or_else(bad)?;
        parse_odoo_time(at).map_err(|_| bad())?;
        let seen =
            ids.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().map_err(|_| bad())).collect::<Result<_>>()?;
        Ok(Self { at: at.to_owned(), seen })
    }

    fn token(&self) -> String {
        let ids: Vec<String> = self.seen.iter().map(i64::to_string).collect();
        format!("{}|{}", self.at, ids.join(","))
    }

    /// The domain of records after this mark.
    fn domain(&self) -> Result<Vec<Value>> {
        // A `write_date` at the calendar's last second has no next one.
        let next_second = parse_odoo_time(&self.at)?
            .checked_add_signed(Duration::seconds(1))
            .ok_or_else(|| {
                ConnectorError::Protocol(format!("Odoo sent write_date {:?}, the last time there is", self.at))
            })?
            .format(super::TIME_FORMAT)
            .to_string();
        Ok(vec![
            json!(["write_date", ">=", self.at]),
            json!("|"),
            json!(["write_date", ">=", next_second]),
            json!(["id", "not in", self.seen]),
        ])
    }
}

/// The mark after `rows` (ordered by write_date, id), given the one before.
pub(super) fn next_mark(before: Option<&Mark>, rows: &[Value]) -> Option<Mark> {
    let at = text(rows.last()?, "write_date")?;
    let mut seen: Vec<i64> = match before {
        Some(m) if m.at == at => m.seen.clone(),
        _ => Vec::new(),
    };
    seen.extend(
        rows.iter()
            .filter(|r| text(r, "write_date").as_deref() == Some(at.as_str()))
            .filter_map(|r| r.get("id")?.as_i64()),
    );
    Some(Mark { at, seen })
}

impl Odoo {
    /// One page of `model` records matching `domain` changed at or after
    /// `since`, oldest change first, and the token of the next page.
    pub(super) async fn changed_page(
        &self,
        model: &str,
        mut domain: Vec<Value>,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
        fields: &[&str],
    ) -> Result<(Vec<Value>, Option<String>)> {
        let mark = after.map(Mark::parse).transpose()?;
        match &mark {
            Some(m) => domain.extend(m.domain()?),
            None => {
                if let Some(t) = since {
                    domain.push(json!(["write_date", ">=", super::odoo_time_text(t)]));
                }
            }
        }
        let mut fields = fields.to_vec();
        fields.push("write_date");
        let extra = json!({ "order": "write_date asc, id asc", "limit": PAGE });
        let rows = self.search_read(model, Value::Array(domain), &fields, extra).await?;
        let next = if rows.len() < PAGE { None } else { next_mark(mark.as_ref(), &rows).map(|m| m.token()) };
        Ok((rows, next))
    }

    pub(super) async fn read_stock(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<StockReading>> {
        let domain = vec![json!(["location_id.usage", "=", "internal"])];
        let fields = ["product_id", "location_id", "quantity", "reserved_quantity"];
        let (rows, next) = self.changed_page("stock.quant", domain, since, after, &fields).await?;
        let product_ids: Vec<i64> = rows.iter().filter_map(|r| many2one_id(r, "product_id")).collect();
        let codes = self.codes_of(&product_ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = row_id(r, "stock.quant")?;
            let Some(sku) = many2one_id(r, "product_id").and_then(|p| codes.get(&p)) else {
                continue; // a product without an Internal Reference has no SKU to sync
            };
            let qty = |f: &str| {
                decimal(r, f)
                    .ok_or_else(|| ConnectorError::Protocol(format!("Odoo stock.quant {id}: {f} is not a number")))
            };
            items.push(StockReading {
                id: id.to_string(),
                level: StockLevel {
                    sku: sku.clone(),
                    location: many2one_name(r, "location_id").unwrap_or_default(),
                    on_hand: qty("quantity")?,
                    reserved: qty("reserved_quantity")?,
                },
                updated_at: parse_odoo_time(&text(r, "write_date").unwrap_or_default())?,
            });
        }
        Ok(Page { items, next })
    }

    /// `default_code` of each product id (archived ones too).
    async fn codes_of(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ctx = json!({ "context": { "active_test": false } });
        let rows = self.search_read("product.product", json!([["id", "in", ids]]), &["default_code"], ctx).await?;
        Ok(rows.iter().filter_map(|r| Some((r.get("id")?.as_i64()?, text(r, "default_code")?))).collect())
    }

    /// Products with an Internal Reference, archived ones too, except the
    /// service products Ferry books shipping, VAT and discounts on.
    pub(super) async fn read_catalog(&self) -> Result<Vec<CatalogItem>> {
        let fields = ["default_code", "name", "lst_price", "active", "currency_id"];
        let domain = json!([["default_code", "!=", false]]);
        let rows = self.search_read_all("product.product", domain, &fields, json!({ "active_test": false })).await?;
        let ours = [&self.shipping_product, &self.tax_product, &self.discount_product, &self.refund_product];
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some(sku) = text(r, "default_code") else { continue };
            if ours.iter().any(|c| c.as_deref() == Some(sku.as_str())) {
                continue;
            }
            let price = match (decimal(r, "lst_price"), many2one_name(r, "currency_id")) {
                (Some(p), Some(c)) => Money::parse(&p.round_dp(2).to_string(), &c).ok(),
                _ => None,
            };
            out.push(CatalogItem {
                sku,
                title: text(r, "name"),
                price,
                active: r.get("active").and_then(Value::as_bool),
            });
        }
        Ok(out)
    }

    pub(super) async fn write_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let products = self.product_ids(&[sku], true).await?;
        let Some(id) = products.get(sku).copied() else {
            return Err(ConnectorError::Rejected {
                message: format!("Odoo has no product with Internal Reference {sku}"),
                fields: vec![],
            });
        };
        let vals = match field {
            CatalogField::Title(t) => json!({ "name": t }),
            CatalogField::Price(p) => json!({ "lst_price": super::number(p.amount) }),
            CatalogField::Active(a) => json!({ "active": a }),
        };
        self.write("product.product", id, vals).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_remember_the_ids_read_at_the_last_second() {
        let rows = [
            json!({ "id": 4, "write_date": "2026-11-26 10:00:00" }),
            json!({ "id": 2, "write_date": "2026-11-26 10:00:01" }),
            json!({ "id": 9, "write_date": "2026-11-26 10:00:01" }),
        ];
        let m = next_mark(None, &rows).expect("rows give a mark");
        assert_eq!(m.token(), "2026-11-26 10:00:01|2,9");
        assert_eq!(Mark::parse(&m.token()).ok(), Some(m.clone()), "the token round-trips");
        let more = [json!({ "id": 11, "write_date": "2026-11-26 10:00:01" })];
        assert_eq!(
            next_mark(Some(&m), &more).map(|m| m.token()).as_deref(),
            Some("2026-11-26 10:00:01|2,9,11"),
            "a page all in one second keeps the ids read before"
        );
        let later = [json!({ "id": 1, "write_date": "2026-11-26 10:05:00" })];
        assert_eq!(next_mark(Some(&m), &later).map(|m| m.token()).as_deref(), Some("2026-11-26 10:05:00|1"));
        let domain = m.domain().expect("domain");
        assert_eq!(domain[2], json!(["write_date", ">=", "2026-11-26 10:00:02"]), "later seconds always come");
        assert!(Mark::parse("garbage").is_err() && Mark::parse("2026-11-26 10:00:01|x").is_err());
    }

    #[test]
    fn a_mark_at_the_end_of_the_calendar_is_a_protocol_error_not_an_overflow() {
        // Found by the fuzz suite: a page whose last write_date was chrono's
        // last second panicked when the next page's domain added a second.
        let rows = [json!({ "id": 4, "write_date": "+262142-12-31 23:59:59" })];
        let m = next_mark(None, &rows).expect("rows give a mark");
        let m = Mark::parse(&m.token()).expect("the token parses");
        assert!(matches!(m.domain(), Err(ConnectorError::Protocol(_))));
    }
}
