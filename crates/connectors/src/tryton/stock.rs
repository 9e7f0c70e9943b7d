//! Stock and the catalog (`product.product`: `code` — the variant's code,
//! the template's `code` plus its suffix —, the template's `name` and
//! `list_price`, `active`).
//!
//! Tryton keeps no stock table: quantities are computed from stock moves
//! for a location context. Ferry's stock feed is therefore the feed of
//! `stock.move` records (by `write_date`, or `create_date` while it is
//! NULL — a move created and never modified counts from its creation);
//! every product in a page is then read per warehouse with
//! `product.product.search_read` in the context `{"locations":
//! [warehouse]}`: `quantity` is on hand (done moves up to Tryton's today —
//! Ferry leaves `stock_date_end` out so the server's own date, in the
//! company's time zone, is used), and the same read with `"stock_assign":
//! true` also subtracts moves out that are assigned (reserved for a
//! shipment). Reserved = the difference; available = on hand − reserved.
//! A reading's id is `<product id>@<warehouse id>`.

use super::feed::changed_at;
use super::rpc::{dec_decimal, enc_decimal};
use super::{boolean, nested, row_id, text, Tryton, SYSTEM};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{CatalogField, CatalogItem, ConnectorError, Money, StockLevel, StockReading};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What orders hold of `sku`: on hand less what can still be assigned
/// (never below zero). Quantities whose difference a decimal cannot hold
/// are a protocol error, not an overflow.
fn reserved(sku: &str, on_hand: Decimal, assignable: Decimal) -> Result<Decimal> {
    on_hand.checked_sub(assignable).map(|r| r.max(Decimal::ZERO)).ok_or_else(|| {
        ConnectorError::Protocol(format!(
            "{SYSTEM} quantities of {sku} are beyond what Ferry reads: {on_hand} and {assignable}"
        ))
    })
}

impl Tryton {
    /// The warehouses read: `(id, code)`, all of them or the configured codes.
    async fn warehouse_list(&self) -> Result<Vec<(i64, String)>> {
        let rows = self
            .search_read_all("stock.location", json!([["type", "=", "warehouse"]]), &["code", "name"], &json!({}))
            .await?;
        let list: Vec<(i64, String)> = rows
            .iter()
            .filter_map(|r| Some((r.get("id")?.as_i64()?, text(r, "code").or_else(|| text(r, "name"))?)))
            .filter(|(_, code)| self.warehouses.is_empty() || self.warehouses.contains(code))
            .collect();
        if list.is_empty() {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Tryton has no warehouse {}",
                    if self.warehouses.is_empty() { String::new() } else { self.warehouses.join(", ") }
                ),
                fields: vec![],
            });
        }
        Ok(list)
    }

    /// `quantity` of each product in `location`'s context.
    async fn quantities(&self, products: &[i64], location: i64, assign: bool) -> Result<HashMap<i64, Decimal>> {
        let context = json!({ "locations": [location], "with_childs": true, "stock_assign": assign });
        let rows = self
            .search_read(
                "product.product",
                json!([["id", "in", products], ["active", "in", [true, false]]]),
                0,
                None,
                json!([]),
                &["quantity"],
                &context,
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id = row_id(r, "product.product")?;
                let q = r.get("quantity").and_then(dec_decimal).ok_or_else(|| {
                    ConnectorError::Protocol(format!("{SYSTEM} product {id}: quantity is not a number"))
                })?;
                Ok((id, q))
            })
            .collect()
    }

    pub(super) async fn read_stock(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<StockReading>> {
        let domain = json!([["product.code", "!=", null]]);
        let (rows, next) =
            self.changed_page("stock.move", domain, since, after, &["product", "product.code"], json!({})).await?;
        // Each product once, at its latest change in this page, oldest first.
        let mut latest: Vec<(i64, String, DateTime<Utc>)> = Vec::new();
        for r in &rows {
            let (Some(product), Some(code), Some(at)) =
                (r.get("product").and_then(Value::as_i64), nested(r, "product", "code"), changed_at(r))
            else {
                continue;
            };
            latest.retain(|(p, _, _)| *p != product);
            latest.push((product, code, at));
        }
        if latest.is_empty() {
            return Ok(Page { items: vec![], next });
        }
        let ids: Vec<i64> = latest.iter().map(|(p, _, _)| *p).collect();
        let mut items = Vec::new();
        let warehouses = self.warehouse_list().await?;
        let mut levels = Vec::new();
        for (wh, code) in &warehouses {
            levels.push((*wh, code, self.quantities(&ids, *wh, false).await?, self.quantities(&ids, *wh, true).await?));
        }
        for (product, sku, at) in &latest {
            for (wh, code, on_hand, assignable) in &levels {
                let on_hand = on_hand.get(product).copied().unwrap_or_default();
                let assignable = assignable.get(product).copied().unwrap_or(on_hand);
                items.push(StockReading {
                    id: format!("{product}@{wh}"),
                    level: StockLevel {
                        sku: sku.clone(),
                        location: (*code).clone(),
                        on_hand,
                        reserved: reserved(sku, on_hand, assignable)?,
                    },
                    updated_at: *at,
                });
            }
        }
        Ok(Page { items, next })
    }

    /// Products with a code, inactive ones too, except the service products
    /// Ferry books shipping, VAT, discounts and refunds on.
    pub(super) async fn read_catalog(&self) -> Result<Vec<CatalogItem>> {
        let currency = self.company_currency().await?;
        let fields = ["code", "template.name", "template.list_price", "list_price_used", "active"];
        let domain = json!([["code", "!=", null], ["active", "in", [true, false]]]);
        let rows = self.search_read_all("product.product", domain, &fields, &json!({})).await?;
        let ours = [&self.shipping_product, &self.tax_product, &self.discount_product, &self.refund_product];
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some(sku) = text(r, "code") else { continue };
            if ours.iter().any(|c| c.as_deref() == Some(sku.as_str())) {
                continue;
            }
            // `list_price_used` (the variant's price for the company), else the template's.
            let price = r
                .get("list_price_used")
                .and_then(dec_decimal)
                .or_else(|| r.get("template.")?.get("list_price").and_then(dec_decimal))
                .and_then(|p| Money::parse(&p.round_dp(2).to_string(), &currency).ok());
            out.push(CatalogItem { sku, title: nested(r, "template", "name"), price, active: boolean(r, "active") });
        }
        Ok(out)
    }

    pub(super) async fn write_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let products = self.products_by_code(&[sku], true).await?;
        let Some(p) = products.get(sku).copied() else {
            return Err(ConnectorError::Rejected {
                message: format!("Tryton has no product with code {sku}"),
                fields: vec![],
            });
        };
        match field {
            CatalogField::Title(t) => self.write("product.template", &[p.template], json!({ "name": t })).await,
            CatalogField::Price(m) => {
                let currency = self.company_currency().await?;
                if m.currency.code() != currency {
                    return Err(ConnectorError::Rejected {
                        message: format!(
                            "the price of {sku} is in {} but Tryton's company sells in {currency}",
                            m.currency
                        ),
                        fields: vec![],
                    });
                }
                self.write("product.template", &[p.template], json!({ "list_price": enc_decimal(m.amount) })).await
            }
            CatalogField::Active(a) => self.write("product.product", &[p.id], json!({ "active": a })).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_is_on_hand_less_assignable_and_absurd_quantities_are_refused() {
        assert_eq!(reserved("MUG-01", Decimal::from(10), Decimal::from(7)), Ok(Decimal::from(3)));
        assert_eq!(reserved("MUG-01", Decimal::from(5), Decimal::from(7)), Ok(Decimal::ZERO), "never below zero");
        // Found by the fuzz suite: on hand −7.9e28 less 3 assignable overflowed (a panic).
        assert!(
            matches!(reserved("MUG-01", Decimal::MIN, Decimal::from(3)), Err(ConnectorError::Protocol(m)) if m.contains("MUG-01"))
        );
    }
}
