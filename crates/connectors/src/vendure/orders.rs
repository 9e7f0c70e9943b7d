//! Orders: `orders(options)` of placed orders, changed since a time, with
//! their lines, shipping, taxes, discounts and refunds mapped so that the
//! parts add up to `totalWithTax` to the cent.
//!
//! Prices follow the channel's `pricesIncludeTax`: with it, lines, the
//! discount and shipping are read with tax and the taxes are included;
//! without it, they are read net and the tax summary adds the taxes.

use super::{currency, money, time, Keyset, Vendure};
use crate::traits::Page;
use crate::Result;
use chrono::{DateTime, Utc};
use ferry_domain::{
    Address, Charge, ConnectorError, Currency, Customer, Order, OrderLine, OrderStatus, Refund, RefundLine,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

pub const ORDERS_QUERY: &str = r#"query Orders($options: OrderListOptions) {
  activeChannel { pricesIncludeTax }
  orders(options: $options) {
    totalItems
    items {
      id code state createdAt updatedAt orderPlacedAt currencyCode total totalWithTax
      customer { id emailAddress firstName lastName phoneNumber }
      shippingAddress { fullName streetLine1 streetLine2 city postalCode countryCode phoneNumber }
      lines { id quantity unitPrice unitPriceWithTax productVariant { sku name } }
      shippingLines { price priceWithTax shippingMethod { name } }
      discounts { description amount amountWithTax }
      taxSummary { description taxRate taxTotal }
      payments { refunds { id createdAt reason state total lines { orderLineId quantity } } }
    }
  }
}"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersData {
    active_channel: Channel,
    orders: List<VOrder>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    prices_include_tax: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct List<T> {
    pub total_items: u64,
    pub items: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VOrder {
    id: String,
    code: String,
    state: String,
    created_at: String,
    updated_at: String,
    order_placed_at: Option<String>,
    currency_code: String,
    total: i64,
    total_with_tax: i64,
    customer: Option<VCustomer>,
    shipping_address: Option<VAddress>,
    lines: Vec<VLine>,
    shipping_lines: Vec<VShippingLine>,
    discounts: Vec<VDiscount>,
    tax_summary: Vec<VTax>,
    payments: Option<Vec<VPayment>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VCustomer {
    id: String,
    email_address: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone_number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VAddress {
    full_name: Option<String>,
    street_line1: Option<String>,
    street_line2: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    phone_number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VLine {
    id: String,
    quantity: i64,
    unit_price: i64,
    unit_price_with_tax: i64,
    product_variant: VVariant,
}

#[derive(Debug, Deserialize)]
struct VVariant {
    sku: Option<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VShippingLine {
    price: i64,
    price_with_tax: i64,
    shipping_method: Option<Named>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VDiscount {
    amount: i64,
    amount_with_tax: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VTax {
    description: String,
    tax_rate: f64,
    tax_total: i64,
}

#[derive(Debug, Deserialize)]
struct VPayment {
    refunds: Vec<VRefund>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VRefund {
    id: String,
    created_at: String,
    reason: Option<String>,
    state: String,
    total: i64,
    lines: Vec<VRefundLine>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VRefundLine {
    order_line_id: String,
    quantity: i64,
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl VOrder {
    fn into_order(self, with_tax: bool) -> Result<Order> {
        let cur: Currency = currency(&self.currency_code)?;
        let m = |minor: i64| money(minor, &cur);
        let lines = self
            .lines
            .iter()
            .filter(|l| l.quantity > 0)
            .map(|l| OrderLine {
                sku: text(&l.product_variant.sku),
                title: l.product_variant.name.clone(),
                quantity: l.quantity,
                unit_price: m(if with_tax { l.unit_price_with_tax } else { l.unit_price }),
            })
            .collect();
        // Vendure's discounts are negative adjustments; ours is a positive amount.
        let beyond = |what: &str| {
            ConnectorError::Protocol(format!("Vendure order {}: {what} beyond what an amount can hold", self.code))
        };
        let discount = self
            .discounts
            .iter()
            .try_fold(0i64, |sum, d| sum.checked_sub(if with_tax { d.amount_with_tax } else { d.amount }))
            .ok_or_else(|| beyond("discounts that add up"))?;
        let shipping_lines = self
            .shipping_lines
            .iter()
            .map(|s| Charge {
                title: s.shipping_method.as_ref().map(|n| n.name.clone()).unwrap_or_else(|| "Shipping".into()),
                amount: m(if with_tax { s.price_with_tax } else { s.price }),
                rate: None,
            })
            .collect();
        let tax_lines = self
            .tax_summary
            .iter()
            .filter(|t| t.tax_total != 0)
            .map(|t| Charge {
                title: t.description.clone(),
                amount: m(t.tax_total),
                rate: Decimal::try_from(t.tax_rate).ok().map(|r| (r / Decimal::ONE_HUNDRED).normalize()),
            })
            .collect();
        let unit_with_tax = |line_id: &str| {
            self.lines.iter().find(|l| l.id == line_id).map(|l| (l.product_variant.sku.clone(), l.unit_price_with_tax))
        };
        let mut refunds = Vec::new();
        for r in self.payments.iter().flatten().flat_map(|p| &p.refunds) {
            if r.state != "Settled" {
                continue;
            }
            refunds.push(Refund {
                id: r.id.clone(),
                created_at: time(&r.created_at)?,
                note: text(&r.reason),
                total: m(r.total),
                lines: r
                    .lines
                    .iter()
                    .filter(|l| l.quantity > 0)
                    .map(|l| {
                        let (sku, unit) = unit_with_tax(&l.order_line_id).unwrap_or((None, 0));
                        let amount = unit.checked_mul(l.quantity).ok_or_else(|| beyond("a refunded line"))?;
                        Ok(RefundLine { sku, quantity: l.quantity, amount: m(amount) })
                    })
                    .collect::<Result<_>>()?,
            });
        }
        refunds.sort_by_key(|r| r.created_at);
        let status = match self.state.as_str() {
            "Cancelled" => OrderStatus::Cancelled,
            "Delivered" => OrderStatus::Closed,
            _ => OrderStatus::Open,
        };
        let _ = self.total; // the net total; `totalWithTax` is what the customer pays
        Ok(Order {
            id: self.id,
            number: self.code,
            created_at: time(self.order_placed_at.as_deref().unwrap_or(&self.created_at))?,
            updated_at: time(&self.updated_at)?,
            status,
            customer: self
                .customer
                .map(|c| Customer {
                    id: Some(c.id),
                    email: text(&c.email_address),
                    first_name: text(&c.first_name),
                    last_name: text(&c.last_name),
                    phone: text(&c.phone_number),
                    addresses: vec![],
                })
                .unwrap_or_default(),
            shipping_address: self.shipping_address.map(|a| Address {
                name: text(&a.full_name),
                line1: text(&a.street_line1),
                line2: text(&a.street_line2),
                city: text(&a.city),
                postcode: text(&a.postal_code),
                country: text(&a.country_code).map(|c| c.to_uppercase()),
                phone: text(&a.phone_number),
            }),
            lines,
            shipping_lines,
            tax_lines,
            taxes_included: with_tax,
            discount: (discount != 0).then(|| m(discount)),
            total: m(self.total_with_tax),
            refunds,
        })
    }
}

impl Vendure {
    pub(crate) async fn read_orders(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>> {
        let cursor = Keyset::start(since, after)?;
        // Placed orders only: not carts (active) nor drafts.
        let options = cursor.options(self.page_size(), json!({ "orderPlacedAt": { "isNull": false } }));
        let take = options["take"].as_u64().unwrap_or(0);
        let skip = options["skip"].as_u64().unwrap_or(0);
        let data = self.gql(ORDERS_QUERY, json!({ "options": options })).await?;
        let data: OrdersData = serde_json::from_value(data).map_err(|e| {
            ConnectorError::Protocol(format!("Vendure sent orders that are not what Ferry asked for: {e}"))
        })?;
        let more =
            skip + (data.orders.items.len() as u64) < data.orders.total_items && data.orders.items.len() as u64 >= take;
        let with_tax = data.active_channel.prices_include_tax;
        let mut keys = Vec::new();
        let mut orders = Vec::new();
        for o in data.orders.items {
            let updated = time(&o.updated_at)?;
            if cursor.already_read(&o.id, updated) {
                continue;
            }
            keys.push((o.id.clone(), updated));
            orders.push(o.into_order(with_tax)?);
        }
        let next = cursor.next(&keys, more).map(|k| k.encode());
        Ok(Page { items: orders, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One order as the Orders query answers it.
    fn order(discounts: serde_json::Value, refund_quantity: i64, unit_with_tax: i64) -> VOrder {
        serde_json::from_value(json!({
            "id": "1", "code": "T1", "state": "PaymentSettled", "createdAt": "2026-11-26T10:00:00Z",
            "updatedAt": "2026-11-26T10:05:00Z", "orderPlacedAt": "2026-11-26T10:00:00Z", "currencyCode": "EUR",
            "total": 1680, "totalWithTax": 1999, "customer": null, "shippingAddress": null,
            "lines": [{ "id": "7", "quantity": 1, "unitPrice": 1680, "unitPriceWithTax": unit_with_tax,
                "productVariant": { "sku": "MUG-1", "name": "Mug" } }],
            "shippingLines": [], "discounts": discounts, "taxSummary": [],
            "payments": [{ "refunds": [{ "id": "r1", "createdAt": "2026-11-27T10:00:00Z", "reason": null, "state": "Settled",
                "total": 1999, "lines": [{ "orderLineId": "7", "quantity": refund_quantity }] }] }],
        }))
        .expect("the documented shape")
    }

    #[test]
    fn a_documented_order_maps() {
        let o = order(json!([{ "amount": -100, "amountWithTax": -119 }]), 1, 1999).into_order(true).expect("maps");
        assert_eq!(o.discount.map(|d| d.to_string()).as_deref(), Some("1.19 EUR"), "a positive discount, with tax");
        assert_eq!(o.refunds[0].lines[0].amount.to_string(), "19.99 EUR");
    }

    #[test]
    fn amounts_beyond_an_i64_are_a_protocol_error_not_an_overflow() {
        // Found by the fuzz suite: the discounts' sum, its negation and a
        // refunded line's unit price × quantity overflowed (a panic).
        let cases = [
            ("negated discount", order(json!([{ "amount": i64::MIN, "amountWithTax": i64::MIN }]), 1, 1999)),
            (
                "summed discounts",
                order(
                    json!([{ "amount": 0, "amountWithTax": i64::MAX }, { "amount": 0, "amountWithTax": i64::MAX }]),
                    1,
                    1999,
                ),
            ),
            ("refunded line", order(json!([]), 3, i64::MAX)),
        ];
        for (case, o) in cases {
            let result = o.into_order(true);
            assert!(matches!(&result, Err(ConnectorError::Protocol(m)) if m.contains("T1")), "{case}: {result:?}");
        }
    }
}
