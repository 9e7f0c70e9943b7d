//! WooCommerce orders and their refunds, read incrementally and mapped so
//! their parts add up to the store's total to the cent.
//!
//! Follows https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders
//! and #list-all-refunds. Changed orders are listed with
//! `modified_after` + `dates_are_gmt=true`, `orderby=modified&order=asc`.
//! `modified_after` is exclusive and has whole seconds, and `page` is an
//! offset that shifts when an order changes while we page, so the page
//! token is a keyset, not a page number: the modification second of the
//! last order read and the ids already read in that second. The next page
//! asks for page 1 of the orders modified after one second earlier,
//! `exclude`-ing those ids (and drops them if they come anyway), so a burst
//! of orders changed in one second pages correctly too. An order changed
//! again while we page is read by the next pass, which starts at or before
//! its old time. Only a burst of more than `MAX_EXCLUDE` orders in one
//! second goes on by page number.
//!
//! Money: WooCommerce keeps every amount without tax and the tax beside it;
//! `total` is the grand total. A shop that enters prices with tax
//! (`prices_include_tax`) is mapped with taxes included (line prices,
//! discount and shipping with their tax), any other as net amounts plus its
//! `tax_lines`. Either way the parts add up to `total` when WooCommerce
//! rounds tax per line (its default); if the gross form does not (tax
//! rounded at subtotal), the net form is used, which always does. A line
//! whose amount does not divide into whole cents per unit is split in two
//! lines of the same SKU (e.g. 3 × 10.92 = 32.75 becomes 2 × 10.91 and
//! 1 × 10.93). Fees (`fee_lines`) are charges (positive, shown as
//! "Fee: ..." beside shipping) or discounts (negative).

use super::{gmt_date, text, WooCommerce, SYSTEM};
use crate::{Page, Result};
use chrono::{DateTime, Duration, Utc};
use ferry_domain::{
    Address, Charge, ConnectorError, Customer, Money, Order, OrderLine, OrderStatus, Refund, RefundLine,
};
use rust_decimal::Decimal;
use serde::Deserialize;

/// At most this many ids in `exclude` (the URL stays far below 8 KB).
const MAX_EXCLUDE: usize = 200;

/// Where the next page of changed orders starts (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChangeCursor {
    /// Orders modified at or after this second (`None`: from the first).
    pub at: Option<DateTime<Utc>>,
    /// The page of that query: 1, unless more than `MAX_EXCLUDE` orders
    /// shared one second.
    pub page: u32,
    /// Orders modified in second `at` that were already read.
    pub seen: Vec<u64>,
}

impl ChangeCursor {
    pub fn start(since: Option<DateTime<Utc>>) -> Self {
        let at = since.and_then(|s| DateTime::from_timestamp(s.timestamp(), 0));
        Self { at, page: 1, seen: vec![] }
    }

    /// `<unix seconds or ->.<page>.<id,id,...>`
    pub fn encode(&self) -> String {
        let at = self.at.map_or_else(|| "-".to_owned(), |t| t.timestamp().to_string());
        let seen: Vec<String> = self.seen.iter().map(u64::to_string).collect();
        format!("{at}.{}.{}", self.page, seen.join(","))
    }

    pub fn parse(token: &str) -> Result<Self> {
        let bad = || ConnectorError::Protocol(format!("the WooCommerce page token {token:?} is not one Ferry made"));
        let mut parts = token.splitn(3, '.');
        let (at, page, seen) =
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let at = match at {
            "-" => None,
            secs => Some(secs.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or_else(bad)?),
        };
        let seen = if seen.is_empty() {
            vec![]
        } else {
            seen.split(',').map(|id| id.parse::<u64>().map_err(|_| bad())).collect::<Result<_>>()?
        };
        Ok(Self { at, page: page.parse().ok().filter(|p| *p >= 1).ok_or_else(bad)?, seen })
    }

    /// The list query for this cursor.
    pub fn query(&self, per_page: u32) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("orderby", "modified".to_owned()),
            ("order", "asc".to_owned()),
            ("per_page", per_page.to_string()),
            ("page", self.page.to_string()),
        ];
        if let Some(at) = self.at {
            // Exclusive, in whole seconds: one second earlier includes `at`
            // (at the calendar's first second there is none: `at` itself).
            let before = at.checked_sub_signed(Duration::seconds(1)).unwrap_or(at);
            q.push(("modified_after", super::date_param(before)));
            q.push(("dates_are_gmt", "true".to_owned()));
        }
        if !self.seen.is_empty() && self.seen.len() <= MAX_EXCLUDE {
            let ids: Vec<String> = self.seen.iter().map(u64::to_string).collect();
            q.push(("exclude", ids.join(",")));
        }
        q
    }

    /// Whether an order read with this cursor was already read.
    pub fn already_read(&self, id: u64, modified: DateTime<Utc>) -> bool {
        self.at.is_some_and(|at| modified < at || (modified == at && self.seen.contains(&id)))
    }

    /// The cursor after a page of (id, modified) in list order, `per_page`
    /// long; `None` when it was the last page.
    pub fn next(&self, page: &[(u64, DateTime<Utc>)], more_pages: bool, per_page: u32) -> Option<Self> {
        let &(_, last) = page.last()?;
        if !more_pages {
            return None;
        }
        let same_second = |t: DateTime<Utc>| page.iter().filter(move |(_, m)| *m == t).map(|(id, _)| *id);
        if self.at.is_some_and(|at| last <= at) {
            // A whole page in one second: exclude all of it too.
            let mut seen = self.seen.clone();
            seen.extend(same_second(last));
            let page = if seen.len() <= MAX_EXCLUDE {
                1
            } else {
                // Too many to exclude: the seen ones are the query's first.
                u32::try_from(seen.len()).unwrap_or(u32::MAX) / per_page.max(1) + 1
            };
            return Some(Self { at: self.at, page, seen });
        }
        Some(Self { at: Some(last), page: 1, seen: same_second(last).collect() })
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WooOrder {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub number: String,
    pub status: String,
    pub currency: String,
    pub date_created_gmt: Option<String>,
    pub date_modified_gmt: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub discount_total: String,
    #[serde(default, deserialize_with = "text")]
    pub discount_tax: String,
    #[serde(deserialize_with = "text")]
    pub total: String,
    #[serde(default)]
    pub prices_include_tax: bool,
    #[serde(default)]
    pub customer_id: u64,
    #[serde(default)]
    pub billing: Option<WooAddress>,
    #[serde(default)]
    pub shipping: Option<WooAddress>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    /// `{id, reason, total}` of each refund; the refunds themselves are read apart.
    #[serde(default)]
    pub refunds: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WooAddress {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub address_1: Option<String>,
    #[serde(default)]
    pub address_2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LineItem {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub sku: String,
    pub quantity: i64,
    #[serde(deserialize_with = "text")]
    pub subtotal: String,
    #[serde(default, deserialize_with = "text")]
    pub subtotal_tax: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ShippingLine {
    #[serde(default)]
    pub method_title: String,
    #[serde(deserialize_with = "text")]
    pub total: String,
    #[serde(default, deserialize_with = "text")]
    pub total_tax: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct TaxLine {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub rate_percent: Option<serde_json::Number>,
    #[serde(default, deserialize_with = "text")]
    pub tax_total: String,
    #[serde(default, deserialize_with = "text")]
    pub shipping_tax_total: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct FeeLine {
    #[serde(default)]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub total: String,
    #[serde(default, deserialize_with = "text")]
    pub total_tax: String,
}

/// `GET /orders/<id>/refunds`: one refund.
#[derive(Debug, Deserialize)]
pub(super) struct WooRefund {
    pub id: u64,
    pub date_created_gmt: Option<String>,
    #[serde(deserialize_with = "text")]
    pub amount: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub line_items: Vec<RefundItem>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RefundItem {
    #[serde(default, deserialize_with = "text")]
    pub sku: String,
    /// Negative: goods coming back.
    pub quantity: i64,
    #[serde(deserialize_with = "text")]
    pub total: String,
    #[serde(default, deserialize_with = "text")]
    pub total_tax: String,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An amount as text; `""` (WooCommerce's "none") is zero.
fn dec(raw: &str, order: &str, what: &str) -> Result<Decimal> {
    if raw.trim().is_empty() {
        return Ok(Decimal::ZERO);
    }
    let amount = raw
        .trim()
        .parse::<Decimal>()
        .map_err(|_| ConnectorError::Protocol(format!("{SYSTEM} order {order}: {what} {raw:?} is not an amount")))?;
    // Bounded, so that the sums made from it below cannot overflow.
    crate::order_check::readable_amount(amount)
        .map_err(|e| ConnectorError::Protocol(format!("{SYSTEM} order {order}: {what}: {e}")))
}

/// What an order status means to Ferry: awaiting payment, paid and on hold
/// are open (`pending` orders are read too: the shop decides what it
/// posts); completed and refunded are closed; cancelled, failed and trashed
/// orders are cancelled. Statuses added by plugins count as open.
pub(super) fn status(s: &str) -> OrderStatus {
    match s {
        "completed" | "refunded" => OrderStatus::Closed,
        "cancelled" | "failed" | "trash" => OrderStatus::Cancelled,
        "pending" | "processing" | "on-hold" => OrderStatus::Open,
        other => {
            tracing::debug!(status = other, "WooCommerce order status from a plugin; read as open");
            OrderStatus::Open
        }
    }
}

/// `amount` for `quantity` units as order lines with whole-cent unit prices:
/// one line when it divides evenly, else `quantity − 1` units at the
/// rounded-down price and one unit with the rest.
fn lines_for(sku: Option<String>, title: &str, quantity: i64, amount: Money) -> Vec<OrderLine> {
    let q = Decimal::from(quantity);
    let unit = amount.amount / q;
    let line = |quantity: i64, price: Decimal| OrderLine {
        sku: sku.clone(),
        title: title.to_owned(),
        quantity,
        unit_price: Money::new(price, amount.currency.clone()),
    };
    if quantity == 1 || (unit.normalize().scale() <= 2 && unit * q == amount.amount) {
        let mut exact = unit.normalize();
        if exact.scale() < 2 {
            exact.rescale(2);
        }
        return vec![line(quantity, exact)];
    }
    let low = unit.trunc_with_scale(2);
    let rest = amount.amount - low * Decimal::from(quantity - 1);
    vec![line(quantity - 1, low), line(1, rest)]
}

impl WooOrder {
    fn label(&self) -> String {
        let n = if self.number.trim().is_empty() { self.id.to_string() } else { self.number.trim().to_owned() };
        format!("#{n}")
    }

    pub fn modified(&self) -> Result<DateTime<Utc>> {
        let raw =
            self.date_modified_gmt.as_deref().or(self.date_created_gmt.as_deref()).ok_or_else(|| {
                ConnectorError::Protocol(format!("{SYSTEM} order {} has no date_modified_gmt", self.id))
            })?;
        gmt_date(raw, "date_modified_gmt")
    }

    /// The domain order, with `refunds` read from `/orders/<id>/refunds`.
    pub fn into_order(self, refunds: Vec<WooRefund>) -> Result<Order> {
        let gross = if self.prices_include_tax { self.map(true, &refunds)? } else { None };
        match gross {
            Some(order) => Ok(order),
            None => self.map(false, &refunds)?.ok_or_else(|| {
                ConnectorError::Protocol(format!("{SYSTEM} order {}: the net form did not map", self.id))
            }),
        }
    }

    /// The order with gross (`included`) or net amounts; `None` when the
    /// gross form does not add up to the total (the net one always does
    /// when WooCommerce's own numbers do).
    fn map(&self, included: bool, refunds: &[WooRefund]) -> Result<Option<Order>> {
        let label = self.label();
        let currency = ferry_domain::Currency::new(&self.currency)
            .map_err(|e| ConnectorError::Protocol(format!("{SYSTEM} order {label}: currency: {e}")))?;
        let money =
            |raw: &str, what: &str| -> Result<Money> { Ok(Money::new(dec(raw, &label, what)?, currency.clone())) };
        let with_tax = |net: &str, tax: &str, what: &str| -> Result<Money> {
            let mut m = money(net, what)?;
            if included {
                m.amount += dec(tax, &label, what)?;
            }
            Ok(m)
        };
        let total = money(&self.total, "total")?;
        let mut lines = Vec::new();
        for li in &self.line_items {
            crate::order_check::readable_quantity(li.quantity)
                .map_err(|e| ConnectorError::Protocol(format!("{SYSTEM} order {label}: line {:?}: {e}", li.name)))?;
            if li.quantity < 0 {
                return Err(ConnectorError::Protocol(format!(
                    "{SYSTEM} order {label}: line {:?} has a negative quantity {}",
                    li.name, li.quantity
                )));
            }
            let amount = with_tax(&li.subtotal, &li.subtotal_tax, &format!("line {:?}", li.name))?;
            if li.quantity == 0 {
                if amount.amount.is_zero() {
                    continue;
                }
                return Err(ConnectorError::Protocol(format!(
                    "{SYSTEM} order {label}: line {:?} has quantity 0 but costs {amount}",
                    li.name
                )));
            }
            let sku = non_empty(Some(li.sku.clone()));
            lines.extend(lines_for(sku, &li.name, li.quantity, amount));
        }
        let mut discount = with_tax(&self.discount_total, &self.discount_tax, "discount")?;
        let mut shipping_lines = Vec::new();
        for s in &self.shipping_lines {
            let amount = with_tax(&s.total, &s.total_tax, &format!("shipping {:?}", s.method_title))?;
            shipping_lines.push(Charge { title: s.method_title.clone(), amount, rate: None });
        }
        for f in &self.fee_lines {
            let amount = with_tax(&f.total, &f.total_tax, &format!("fee {:?}", f.name))?;
            if amount.amount.is_sign_negative() {
                discount.amount -= amount.amount;
            } else if !amount.amount.is_zero() {
                shipping_lines.push(Charge { title: format!("Fee: {}", f.name), amount, rate: None });
            }
        }
        let mut tax_lines = Vec::new();
        for t in &self.tax_lines {
            let mut amount = money(&t.tax_total, &format!("tax {:?}", t.label))?;
            amount.amount += dec(&t.shipping_tax_total, &label, "shipping tax")?;
            let rate = t
                .rate_percent
                .as_ref()
                .and_then(|n| n.to_string().parse::<Decimal>().ok())
                .map(|p| p / Decimal::ONE_HUNDRED);
            tax_lines.push(Charge { title: t.label.clone(), amount, rate: rate.map(|r| r.normalize()) });
        }
        let refunds = refunds
            .iter()
            .map(|r| {
                let lines = r
                    .line_items
                    .iter()
                    .map(|l| {
                        let mut amount = with_tax(&l.total, &l.total_tax, "refunded line")?;
                        amount.amount = -amount.amount;
                        // Bounded first: negating i64::MIN overflows.
                        let quantity = crate::order_check::readable_quantity(l.quantity).map_err(|e| {
                            ConnectorError::Protocol(format!("{SYSTEM} order {label}: refund {}: {e}", r.id))
                        })?;
                        Ok(RefundLine { sku: non_empty(Some(l.sku.clone())), quantity: -quantity, amount })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let created = r.date_created_gmt.as_deref().ok_or_else(|| {
                    ConnectorError::Protocol(format!("{SYSTEM} refund {} has no date_created_gmt", r.id))
                })?;
                Ok(Refund {
                    id: r.id.to_string(),
                    created_at: gmt_date(created, "date_created_gmt")?,
                    note: non_empty(r.reason.clone()),
                    total: money(&r.amount, "refund")?,
                    lines,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let billing = self.billing.clone().unwrap_or_default();
        let address = |a: &super::orders::WooAddress, name: Option<String>| Address {
            name,
            line1: non_empty(a.address_1.clone()),
            line2: non_empty(a.address_2.clone()),
            city: non_empty(a.city.clone()),
            postcode: non_empty(a.postcode.clone()),
            country: non_empty(a.country.clone()).map(|c| c.to_uppercase()),
            phone: non_empty(a.phone.clone()),
        };
        let full_name = |a: &WooAddress| {
            let n = [a.first_name.as_deref(), a.last_name.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (!n.is_empty()).then_some(n)
        };
        let billing_address = address(&billing, None);
        let customer = Customer {
            id: (self.customer_id > 0).then(|| self.customer_id.to_string()),
            email: non_empty(billing.email.clone()),
            first_name: non_empty(billing.first_name.clone()),
            last_name: non_empty(billing.last_name.clone()),
            phone: non_empty(billing.phone.clone()),
            addresses: (billing_address != Address::default()).then_some(billing_address).into_iter().collect(),
        };
        let shipping_address = self
            .shipping
            .as_ref()
            .map(|s| address(s, full_name(s)))
            .filter(|a| a.line1.is_some() || a.city.is_some() || a.postcode.is_some());
        let created = self
            .date_created_gmt
            .as_deref()
            .ok_or_else(|| ConnectorError::Protocol(format!("{SYSTEM} order {label} has no date_created_gmt")))?;
        let order = Order {
            id: self.id.to_string(),
            number: label,
            created_at: gmt_date(created, "date_created_gmt")?,
            updated_at: self.modified()?,
            status: status(&self.status),
            customer,
            shipping_address,
            lines,
            shipping_lines,
            tax_lines,
            taxes_included: included,
            discount: Some(discount).filter(|d| !d.amount.is_zero()),
            total,
            refunds,
        };
        Ok((!included || order.check_total().is_ok()).then_some(order))
    }
}

impl WooCommerce {
    pub(super) async fn read_orders(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>> {
        let cursor = match after {
            Some(token) => ChangeCursor::parse(token)?,
            None => ChangeCursor::start(since),
        };
        let (raw, total_pages): (Vec<WooOrder>, _) =
            self.get("/orders", &cursor.query(self.page_size), "a list of orders").await?;
        let keys = raw.iter().map(|o| Ok((o.id, o.modified()?))).collect::<Result<Vec<_>>>()?;
        let more = match total_pages {
            Some(total) => total > cursor.page,
            // Without the header, a full page may have more after it.
            None => raw.len() >= self.page_size as usize,
        };
        let next = cursor.next(&keys, more, self.page_size).map(|c| c.encode());
        let mut orders = Vec::new();
        for (o, (id, modified)) in raw.into_iter().zip(keys) {
            if cursor.already_read(id, modified) {
                continue;
            }
            let refunds = if o.refunds.is_empty() { vec![] } else { self.refunds_of(id).await? };
            orders.push(o.into_order(refunds)?);
        }
        Ok(Page { items: orders, next })
    }

    async fn refunds_of(&self, order: u64) -> Result<Vec<WooRefund>> {
        let mut refunds: Vec<WooRefund> =
            self.all_pages(&format!("/orders/{order}/refunds"), &[], "the refunds of an order").await?;
        // Oldest first, as the domain wants (the API lists newest first).
        refunds.sort_by_key(|r| (r.date_created_gmt.clone(), r.id));
        Ok(refunds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(json: &str) -> WooOrder {
        crate::http::parse_json(SYSTEM, "an order", json.as_bytes()).expect("a documented order")
    }

    /// A shop with prices excluding tax: the docs' example, with a 10%
    /// coupon and flat-rate shipping.
    const NET: &str = r#"{"id":727,"number":"727","status":"processing","currency":"USD",
        "date_created_gmt":"2017-03-22T19:28:02","date_modified_gmt":"2017-03-22T19:28:08",
        "discount_total":"1.80","discount_tax":"0.14","shipping_total":"10.00","shipping_tax":"0.00",
        "cart_tax":"1.21","total":"27.41","total_tax":"1.21","prices_include_tax":false,"customer_id":26,
        "billing":{"first_name":"John","last_name":"Doe","company":"","address_1":"969 Market","address_2":"",
          "city":"San Francisco","state":"CA","postcode":"94103","country":"US","email":"john.doe@example.com","phone":"(555) 555-5555"},
        "shipping":{"first_name":"John","last_name":"Doe","company":"","address_1":"969 Market","address_2":"",
          "city":"San Francisco","state":"CA","postcode":"94103","country":"US"},
        "line_items":[
          {"id":315,"name":"Woo Single #1","product_id":93,"variation_id":0,"quantity":2,"subtotal":"6.00","subtotal_tax":"0.45","total":"5.40","total_tax":"0.41","sku":"","price":2.7},
          {"id":316,"name":"Ship Your Idea","product_id":22,"variation_id":23,"quantity":1,"subtotal":"12.00","subtotal_tax":"0.90","total":"10.80","total_tax":"0.80","sku":"Bar3","price":10.8}],
        "tax_lines":[{"id":318,"rate_code":"US-CA-STATE TAX","rate_id":75,"label":"State Tax","compound":false,"tax_total":"1.21","shipping_tax_total":"0.00","rate_percent":7.5}],
        "shipping_lines":[{"id":317,"method_title":"Flat Rate","method_id":"flat_rate","total":"10.00","total_tax":"0.00"}],
        "fee_lines":[],"coupon_lines":[{"code":"save10","discount":"1.80"}],"refunds":[]}"#;

    /// A German shop with prices including 19% VAT: 3 × 12.99 and 1 × 4.99
    /// gross, 10% off, 4.90 shipping; WooCommerce stores the net amounts.
    const GROSS: &str = r#"{"id":1002,"number":"1002","status":"completed","currency":"EUR",
        "date_created_gmt":"2026-11-26T10:00:00","date_modified_gmt":"2026-11-26T10:05:00",
        "discount_total":"3.70","discount_tax":"0.70","shipping_total":"4.12","shipping_tax":"0.78",
        "cart_tax":"6.32","total":"44.46","total_tax":"7.10","prices_include_tax":true,"customer_id":0,
        "billing":{"first_name":"Ada","last_name":"Lovelace","address_1":"Hauptstraße 1","address_2":"","city":"Berlin",
          "postcode":"10115","country":"DE","email":"ada@example.com","phone":""},
        "shipping":{"first_name":"","last_name":"","address_1":"","address_2":"","city":"","postcode":"","country":""},
        "line_items":[
          {"name":"Blue Mug","quantity":3,"subtotal":"32.75","subtotal_tax":"6.22","total":"29.47","total_tax":"5.60","sku":"MUG-01","price":9.8233},
          {"name":"Pen","quantity":1,"subtotal":"4.19","subtotal_tax":"0.80","total":"3.77","total_tax":"0.72","sku":"PEN-19","price":3.77}],
        "tax_lines":[{"label":"MwSt. 19%","tax_total":"6.32","shipping_tax_total":"0.78","rate_percent":19}],
        "shipping_lines":[{"method_title":"Flat rate","total":"4.12","total_tax":"0.78"}],
        "fee_lines":[],"refunds":[{"id":1100,"reason":"","total":"-12.99"}]}"#;

    #[test]
    fn a_net_priced_order_adds_up_with_its_tax_lines() {
        let o = order(NET).into_order(vec![]).expect("maps");
        assert!(!o.taxes_included);
        assert_eq!(o.check_total(), Ok(()), "18.00 − 1.80 + 10.00 + 1.21 = 27.41");
        assert_eq!(o.number, "#727");
        assert_eq!(o.lines[0].unit_price.to_string(), "3.00 USD", "subtotal / quantity: the price before the coupon");
        assert_eq!(o.lines[0].sku, None, "an empty SKU is none");
        assert_eq!(o.discount.as_ref().map(ToString::to_string).as_deref(), Some("1.80 USD"), "net discount");
        assert_eq!(o.tax_lines[0].rate.map(|r| r.to_string()).as_deref(), Some("0.075"));
        assert_eq!(o.status, OrderStatus::Open);
        assert_eq!(o.customer.id.as_deref(), Some("26"));
        assert_eq!(o.shipping_address.as_ref().and_then(|a| a.name.as_deref()), Some("John Doe"));
        assert_eq!(o.created_at.to_rfc3339(), "2017-03-22T19:28:02+00:00", "the GMT date, not the local one");
    }

    #[test]
    fn a_gross_priced_order_adds_up_with_taxes_included() {
        let o = order(GROSS).into_order(vec![]).expect("maps");
        assert!(o.taxes_included, "the shop's gross prices are kept");
        assert_eq!(o.check_total(), Ok(()), "3 × 12.99 + 4.99 − 4.40 + 4.90 = 44.46");
        assert_eq!(o.lines[0].unit_price.to_string(), "12.99 EUR", "net 32.75 + tax 6.22 over 3 units");
        assert_eq!(o.discount.as_ref().map(|d| d.amount.to_string()).as_deref(), Some("4.40"), "3.70 + 0.70 tax");
        assert_eq!(o.shipping_lines[0].amount.amount.to_string(), "4.90");
        assert_eq!(o.status, OrderStatus::Closed);
        assert_eq!(o.customer.id, None, "customer 0 is a guest");
        assert_eq!(o.shipping_address, None, "an empty shipping address is none");
        assert_eq!(o.customer.addresses[0].city.as_deref(), Some("Berlin"), "the billing address");
    }

    #[test]
    fn tax_rounded_at_subtotal_falls_back_to_net_amounts() {
        // The line taxes (6.22 + 0.80 − 0.70 + 0.78) sum to 7.10 but the
        // order's tax lines say 7.11: WooCommerce rounded at subtotal.
        let json = GROSS
            .replace(r#""total":"44.46","total_tax":"7.10""#, r#""total":"44.47","total_tax":"7.11""#)
            .replace(r#""tax_total":"6.32""#, r#""tax_total":"6.33""#);
        let o = order(&json).into_order(vec![]).expect("maps");
        assert!(!o.taxes_included, "the gross form would be a cent off");
        assert_eq!(o.check_total(), Ok(()));
        let mugs: Vec<_> = o.lines.iter().filter(|l| l.sku.as_deref() == Some("MUG-01")).collect();
        assert_eq!(mugs.len(), 2, "32.75 net does not split into whole cents for 3 units");
        assert_eq!((mugs[0].quantity, mugs[0].unit_price.amount.to_string()), (2, "10.91".into()));
        assert_eq!((mugs[1].quantity, mugs[1].unit_price.amount.to_string()), (1, "10.93".into()));
    }

    #[test]
    fn fees_are_charges_or_discounts() {
        let json = NET.replace(
            r#""fee_lines":[]"#,
            r#""fee_lines":[{"name":"Gift wrap","total":"2.50","total_tax":"0.00"},{"name":"Loyalty","total":"-1.00","total_tax":"0.00"}]"#,
        ).replace(r#""total":"27.41""#, r#""total":"28.91""#);
        let o = order(&json).into_order(vec![]).expect("maps");
        assert_eq!(o.check_total(), Ok(()), "27.41 + 2.50 − 1.00");
        assert_eq!(o.shipping_lines[1].title, "Fee: Gift wrap");
        assert_eq!(o.discount.map(|d| d.amount.to_string()).as_deref(), Some("2.80"));
    }

    #[test]
    fn refunds_are_positive_with_the_goods_returned() {
        let refund: WooRefund = crate::http::parse_json(
            SYSTEM,
            "a refund",
            br#"{"id":1100,
            "date_created_gmt":"2026-11-27T08:00:00","amount":"12.99","reason":"Broken in transit",
            "line_items":[{"id":1,"name":"Blue Mug","quantity":-1,"subtotal":"-10.92","subtotal_tax":"-2.07",
            "total":"-10.92","total_tax":"-2.07","sku":"MUG-01","price":-10.92}]}"#,
        )
        .expect("a documented refund");
        let o = order(GROSS).into_order(vec![refund]).expect("maps");
        let r = &o.refunds[0];
        assert_eq!((r.id.as_str(), r.total.to_string().as_str()), ("1100", "12.99 EUR"));
        assert_eq!(r.note.as_deref(), Some("Broken in transit"));
        assert_eq!(
            (r.lines[0].quantity, r.lines[0].amount.amount.to_string()),
            (1, "12.99".into()),
            "gross, like the order"
        );
    }

    #[test]
    fn statuses_map_to_ours() {
        let cases = [
            ("pending", OrderStatus::Open),
            ("processing", OrderStatus::Open),
            ("on-hold", OrderStatus::Open),
            ("completed", OrderStatus::Closed),
            ("refunded", OrderStatus::Closed),
            ("cancelled", OrderStatus::Cancelled),
            ("failed", OrderStatus::Cancelled),
            ("trash", OrderStatus::Cancelled),
            ("shipped-partially", OrderStatus::Open),
        ];
        for (woo, ours) in cases {
            assert_eq!(status(woo), ours, "{woo}");
        }
    }

    #[test]
    fn bad_amounts_and_dates_are_protocol_errors() {
        for broken in [
            NET.replace(r#""total":"27.41""#, r#""total":"27,41""#),
            NET.replace(r#""date_created_gmt":"2017-03-22T19:28:02""#, r#""date_created_gmt":"yesterday""#),
            NET.replace(r#""currency":"USD""#, r#""currency":"usd""#),
            NET.replace(r#""quantity":2"#, r#""quantity":-2"#),
            NET.replace(r#""quantity":2"#, r#""quantity":9223372036854775807"#),
        ] {
            let result = order(&broken).into_order(vec![]);
            assert!(matches!(result, Err(ConnectorError::Protocol(_))), "{result:?}");
        }
    }

    #[test]
    fn a_refunded_quantity_beyond_any_shop_is_refused_not_negated() {
        // Found by the fuzz suite: a refund line of quantity i64::MIN
        // overflowed when negated (a panic).
        let refund = r#"{"id":1100,"date_created_gmt":"2026-11-27T09:00:00","amount":"12.99",
            "line_items":[{"sku":"MUG-01","quantity":-9223372036854775808,"total":"-10.92","total_tax":"-2.07"}]}"#;
        let refund: WooRefund =
            crate::http::parse_json(SYSTEM, "a refund", refund.as_bytes()).expect("documented shape");
        match order(GROSS).into_order(vec![refund]) {
            Err(ConnectorError::Protocol(m)) => assert!(m.contains("#1002") && m.contains("refund 1100"), "{m}"),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    #[test]
    fn amounts_beyond_any_shop_are_refused_not_added_up() {
        // 7.9e28 (Decimal's largest) plus its tax would overflow (a panic)
        // if it were read; it is refused with the line named instead.
        let huge = GROSS.replace(r#""subtotal":"32.75""#, r#""subtotal":"79228162514264337593543950335""#);
        match order(&huge).into_order(vec![]) {
            Err(ConnectorError::Protocol(m)) => assert!(m.contains("#1002") && m.contains("Blue Mug"), "{m}"),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        super::super::gmt_date(s, "t").expect("date")
    }

    #[test]
    fn the_cursor_is_a_keyset_that_survives_ties() {
        let start = ChangeCursor::start(Some(t("2026-11-26T10:00:00.700Z")));
        assert_eq!(start.at, Some(t("2026-11-26T10:00:00")), "whole seconds, rounded down");
        let q = start.query(100);
        assert!(q.contains(&("modified_after", "2026-11-26T09:59:59".into())), "one second earlier: {q:?}");
        assert!(q.contains(&("dates_are_gmt", "true".into())));
        let page = [(1, t("2026-11-26T10:00:00")), (2, t("2026-11-26T10:00:05")), (3, t("2026-11-26T10:00:05"))];
        let next = start.next(&page, true, 3).expect("more pages");
        assert_eq!(next, ChangeCursor { at: Some(t("2026-11-26T10:00:05")), page: 1, seen: vec![2, 3] });
        assert!(next.query(3).contains(&("exclude", "2,3".into())), "what was read in that second is excluded");
        assert!(next.already_read(3, t("2026-11-26T10:00:05")), "and dropped if it comes anyway");
        assert!(!next.already_read(4, t("2026-11-26T10:00:05")), "same second, not read yet");
        let tie = [(4, t("2026-11-26T10:00:05")), (5, t("2026-11-26T10:00:05")), (6, t("2026-11-26T10:00:05"))];
        let after_tie = next.next(&tie, true, 3).expect("more");
        assert_eq!(
            (after_tie.page, after_tie.seen.as_slice()),
            (1, [2, 3, 4, 5, 6].as_slice()),
            "a whole page in one second"
        );
        let many = ChangeCursor { at: next.at, page: 1, seen: (1..=MAX_EXCLUDE as u64).collect() };
        let beyond = many.next(&[(9999, t("2026-11-26T10:00:05"))], true, 100).expect("more");
        assert_eq!(beyond.page, 3, "201 seen, 100 a page: on by page number");
        assert!(!beyond.query(100).iter().any(|(k, _)| *k == "exclude"), "no URL with hundreds of ids");
        assert_eq!(ChangeCursor::parse(&after_tie.encode()).expect("round trip"), after_tie);
        assert_eq!(ChangeCursor::parse(&ChangeCursor::start(None).encode()).expect("rt"), ChangeCursor::start(None));
        assert_eq!(next.next(&tie, false, 3), None, "the last page ends the pass");
        for bad in ["", "x.1.", "1.0.", "1.1.a", "-.1"] {
            assert!(matches!(ChangeCursor::parse(bad), Err(ConnectorError::Protocol(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_cursor_at_the_first_second_of_the_calendar_makes_a_query() {
        // Found by the fuzz suite: an order modified at chrono's first second
        // became the cursor, and the next page's query (one second earlier)
        // overflowed (a panic).
        let first = gmt_date("-262143-01-01T00:00:00", "t").expect("chrono's first second");
        let cursor = ChangeCursor::start(None).next(&[(1, first)], true, 100).expect("more");
        let cursor = ChangeCursor::parse(&cursor.encode()).expect("round trip");
        let q = cursor.query(100);
        assert!(q.iter().any(|(k, v)| *k == "modified_after" && v.starts_with("-262143")), "{q:?}");
    }
}
