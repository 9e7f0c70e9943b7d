//! How the emulated store shows its records: the JSON of WooCommerce's REST
//! API v3, with money worked out the way WooCommerce stores it.
//!
//! WooCommerce keeps every line, discount and shipping amount *without* tax
//! and the tax beside it (`subtotal` / `subtotal_tax`, `total` /
//! `total_tax`, `discount_total` / `discount_tax`, `shipping_total` /
//! `shipping_tax`), whether or not the shop enters prices with tax
//! (`prices_include_tax`). Taxes are rounded per line ("round at line
//! level"), and the order's `total` is the sum of the line totals, shipping
//! and all taxes. The discount is derived from the lines, as
//! `WC_Order::calculate_totals` does: `discount_total = Σ subtotal − Σ total`.

use crate::seed::SeedOrder;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// The emulated site's time zone: `date_*` fields are local, `*_gmt` UTC.
pub(super) const SITE_TZ: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// A GMT date as WooCommerce writes it: `2026-11-26T10:00:00`, no zone.
pub(super) fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The same moment in the site's time zone, as the `date_*` fields show it.
pub(super) fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&SITE_TZ).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// An amount with two decimals, as text (the API's `dp` default).
pub(super) fn amount(d: Decimal) -> String {
    let mut x = d.round_dp(2);
    x.rescale(2);
    x.to_string()
}

/// A float, as WooCommerce sends line `price` (it is a PHP float there).
fn float(d: Decimal) -> Value {
    d.to_string().parse::<f64>().map_or(Value::Null, |f| json!(f))
}

/// The product a line sells (ids the order line refers to).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LineProduct {
    pub product_id: u64,
    pub variation_id: u64,
}

/// One line's money as WooCommerce stores it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LineMoney {
    pub subtotal: Decimal,
    pub subtotal_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
}

/// An order's money as WooCommerce stores it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OrderMoney {
    pub lines: Vec<LineMoney>,
    pub discount_total: Decimal,
    pub discount_tax: Decimal,
    pub shipping_total: Decimal,
    pub shipping_tax: Decimal,
    pub cart_tax: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
}

/// Works out `o`'s money the way WooCommerce does: catalog prices are gross
/// when `o.taxes_included` (tax is taken out of them) and net otherwise
/// (tax is added); the order's percentage discount is spread over the lines
/// in proportion, the rest of a cent on the last line.
pub(super) fn order_money(o: &SeedOrder) -> OrderMoney {
    let t = o.totals();
    let rate = Decimal::new(i64::from(o.vat_percent), 2);
    // PHP's round(): halves away from zero.
    let round = |x: Decimal| x.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let tax_of = |x: Decimal| {
        if o.taxes_included {
            round(x * rate / (Decimal::ONE + rate))
        } else {
            round(x * rate)
        }
    };
    let mut given = Decimal::ZERO;
    let lines: Vec<LineMoney> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, (p, q))| {
            let line = p.price * Decimal::from(*q);
            let share = if t.subtotal.is_zero() {
                Decimal::ZERO
            } else if i + 1 == o.lines.len() {
                t.discount - given
            } else {
                (t.discount * line / t.subtotal).round_dp(2)
            };
            given += share;
            let after = line - share;
            if o.taxes_included {
                let (subtotal_tax, total_tax) = (tax_of(line), tax_of(after));
                LineMoney { subtotal: line - subtotal_tax, subtotal_tax, total: after - total_tax, total_tax }
            } else {
                LineMoney { subtotal: line, subtotal_tax: tax_of(line), total: after, total_tax: tax_of(after) }
            }
        })
        .collect();
    let (shipping_total, shipping_tax) = if o.taxes_included {
        let tax = tax_of(t.shipping);
        (t.shipping - tax, tax)
    } else {
        (t.shipping, tax_of(t.shipping))
    };
    let sum = |f: fn(&LineMoney) -> Decimal| lines.iter().map(f).sum::<Decimal>();
    let discount_total = sum(|l| l.subtotal) - sum(|l| l.total);
    let discount_tax = sum(|l| l.subtotal_tax) - sum(|l| l.total_tax);
    let cart_tax = sum(|l| l.total_tax);
    let total_tax = cart_tax + shipping_tax;
    let total = sum(|l| l.total) + shipping_total + total_tax;
    OrderMoney { lines, discount_total, discount_tax, shipping_total, shipping_tax, cart_tax, total_tax, total }
}

/// The person an order is for.
pub(super) struct Buyer<'a> {
    pub customer_id: u64,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub address_1: String,
    pub city: &'a str,
    pub postcode: &'a str,
    pub country: &'a str,
    pub phone: String,
}

/// A billing or shipping address object (`email` only on billing).
pub(super) fn address(b: &Buyer<'_>, with_email: bool) -> Value {
    let mut a = json!({
        "first_name": b.first_name, "last_name": b.last_name, "company": "",
        "address_1": b.address_1, "address_2": "", "city": b.city, "state": "",
        "postcode": b.postcode, "country": b.country, "phone": b.phone,
    });
    if with_email {
        a["email"] = json!(b.email);
    }
    a
}

/// The order as `GET /orders/<id>` shows it (refund summaries empty).
#[allow(clippy::too_many_arguments)]
pub(super) fn order(
    id: u64,
    o: &SeedOrder,
    products: &[LineProduct],
    buyer: &Buyer<'_>,
    status: &str,
    created: DateTime<Utc>,
    first_item_id: u64,
) -> Value {
    let m = order_money(o);
    let rate_id = if o.vat_percent == 7 { 2 } else { 1 };
    let tax = |amount_: Decimal| json!([{ "id": rate_id, "total": amount(amount_), "subtotal": amount(amount_) }]);
    let line_items: Vec<Value> = o
        .lines
        .iter()
        .zip(&m.lines)
        .enumerate()
        .map(|(i, ((p, q), l))| {
            let ids = products.get(i).copied().unwrap_or_default();
            let unit = if *q == 0 { Decimal::ZERO } else { l.total / Decimal::from(*q) };
            json!({
                "id": first_item_id + i as u64, "name": p.title, "product_id": ids.product_id,
                "variation_id": ids.variation_id, "quantity": q, "tax_class": "",
                "subtotal": amount(l.subtotal), "subtotal_tax": amount(l.subtotal_tax),
                "total": amount(l.total), "total_tax": amount(l.total_tax),
                "taxes": tax(l.total_tax), "meta_data": [], "sku": p.sku, "price": float(unit),
            })
        })
        .collect();
    let next_item = first_item_id + o.lines.len() as u64;
    let shipping_lines: Vec<Value> = if m.shipping_total.is_zero() && m.shipping_tax.is_zero() {
        vec![]
    } else {
        vec![json!({
            "id": next_item, "method_title": "Flat rate", "method_id": "flat_rate", "instance_id": "1",
            "total": amount(m.shipping_total), "total_tax": amount(m.shipping_tax),
            "taxes": tax(m.shipping_tax), "meta_data": [],
        })]
    };
    let label = if o.vat_percent == 7 { "MwSt. 7%" } else { "MwSt. 19%" };
    let coupons = if o.discount_percent > 0 {
        json!([{ "id": next_item + 2, "code": format!("save{}", o.discount_percent),
            "discount": amount(m.discount_total), "discount_tax": amount(m.discount_tax), "meta_data": [] }])
    } else {
        json!([])
    };
    let tax_lines = json!([{
        "id": next_item + 1, "rate_code": format!("DE-MWST-{rate_id}"), "rate_id": rate_id, "label": label,
        "compound": false, "tax_total": amount(m.cart_tax), "shipping_tax_total": amount(m.shipping_tax),
        "rate_percent": o.vat_percent, "meta_data": [],
    }]);
    // Built in parts: one `json!` this large exceeds the macro recursion limit.
    let mut order = json!({
        "id": id, "parent_id": 0, "number": id.to_string(), "order_key": format!("wc_order_{id:013x}"),
        "created_via": "checkout", "version": "9.4.0", "status": status, "currency": "EUR",
        "date_created": local(created), "date_created_gmt": gmt(created),
        "date_modified": local(created), "date_modified_gmt": gmt(created),
        "discount_total": amount(m.discount_total), "discount_tax": amount(m.discount_tax),
        "shipping_total": amount(m.shipping_total), "shipping_tax": amount(m.shipping_tax),
    });
    let rest = json!({
        "cart_tax": amount(m.cart_tax), "total": amount(m.total), "total_tax": amount(m.total_tax),
        "prices_include_tax": o.taxes_included, "customer_id": buyer.customer_id,
        "customer_ip_address": "", "customer_user_agent": "", "customer_note": "",
        "billing": address(buyer, true), "shipping": address(buyer, false),
        "payment_method": "bacs", "payment_method_title": "Direct bank transfer", "transaction_id": "",
        "date_paid": local(created), "date_paid_gmt": gmt(created),
    });
    let items = json!({
        "date_completed": null, "date_completed_gmt": null, "cart_hash": "", "meta_data": [],
        "line_items": line_items, "tax_lines": tax_lines, "shipping_lines": shipping_lines,
        "fee_lines": [], "coupon_lines": coupons, "refunds": [],
    });
    for part in [rest, items] {
        if let (Some(all), Value::Object(more)) = (order.as_object_mut(), part) {
            all.extend(more);
        }
    }
    order
}

/// A customer as `GET /customers/<id>` shows them.
pub(super) fn customer(c: &super::StoredCustomer) -> Value {
    json!({
        "id": c.id, "date_created": local(c.created), "date_created_gmt": gmt(c.created),
        "date_modified": local(c.modified), "date_modified_gmt": gmt(c.modified),
        "email": c.email, "first_name": c.first_name, "last_name": c.last_name, "role": "customer",
        "username": c.email.split('@').next().unwrap_or_default(),
        "billing": c.billing, "shipping": c.shipping, "is_paying_customer": true,
        "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g", "meta_data": [],
    })
}

fn stock_status(manage: bool, stock: Option<i64>) -> &'static str {
    if manage && stock.unwrap_or(0) <= 0 {
        "outofstock"
    } else {
        "instock"
    }
}

/// A product as `GET /products/<id>` shows it.
pub(super) fn product(p: &super::StoredProduct) -> Value {
    let variable = !p.variations.is_empty();
    let price = if variable {
        p.variations.iter().map(|v| v.regular_price).min().map(amount).unwrap_or_default()
    } else {
        amount(p.regular_price)
    };
    let options: Vec<&str> = p.variations.iter().map(|v| v.option.as_str()).collect();
    json!({
        "id": p.id, "name": p.name, "slug": p.name.to_lowercase().replace(' ', "-"),
        "permalink": format!("https://shop.example/product/{}/", p.name.to_lowercase().replace(' ', "-")),
        "date_created": local(p.created), "date_created_gmt": gmt(p.created),
        "date_modified": local(p.modified), "date_modified_gmt": gmt(p.modified),
        "type": if variable { "variable" } else { "simple" }, "status": p.status, "featured": false,
        "catalog_visibility": "visible", "description": "", "short_description": "", "sku": p.sku,
        "price": price, "regular_price": if variable { String::new() } else { amount(p.regular_price) },
        "sale_price": "", "on_sale": false, "purchasable": true, "tax_status": "taxable", "tax_class": "",
        "manage_stock": p.manage_stock, "stock_quantity": if p.manage_stock { json!(p.stock) } else { Value::Null },
        "stock_status": stock_status(p.manage_stock, p.stock), "backorders": "no",
        "attributes": if variable {
            json!([{ "id": 0, "name": "Style", "position": 0, "visible": true, "variation": true, "options": options }])
        } else { json!([]) },
        "variations": p.variations.iter().map(|v| v.id).collect::<Vec<_>>(),
        "meta_data": [],
    })
}

/// A variation as `GET /products/<id>/variations/<id>` shows it.
pub(super) fn variation(v: &super::StoredVariation) -> Value {
    json!({
        "id": v.id, "date_created": local(v.created), "date_created_gmt": gmt(v.created),
        "date_modified": local(v.modified), "date_modified_gmt": gmt(v.modified),
        "description": "", "permalink": "", "sku": v.sku, "price": amount(v.regular_price),
        "regular_price": amount(v.regular_price), "sale_price": "", "on_sale": false, "status": v.status,
        "purchasable": true, "tax_status": "taxable", "tax_class": "",
        "manage_stock": if v.manage_stock { json!(true) } else { json!("parent") },
        "stock_quantity": if v.manage_stock { json!(v.stock) } else { Value::Null },
        "stock_status": stock_status(v.manage_stock, v.stock), "backorders": "no",
        "attributes": [{ "id": 0, "name": "Style", "option": v.option }], "meta_data": [],
    })
}

/// An order note as `GET /orders/<id>/notes/<id>` shows it.
pub(super) fn note(id: u64, text: &str, customer_note: bool, at: DateTime<Utc>) -> Value {
    json!({
        "id": id, "author": "WooCommerce", "date_created": local(at), "date_created_gmt": gmt(at),
        "note": text, "customer_note": customer_note, "added_by_user": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, SeedProduct};

    fn seed_order(taxes_included: bool, discount_percent: u32, lines: &[(&str, i64)]) -> SeedOrder {
        let now = Utc::now();
        let mut o = seed::orders(1, 1, 1001, now, &seed::catalog(1)).remove(0);
        o.taxes_included = taxes_included;
        o.discount_percent = discount_percent;
        o.vat_percent = 19;
        o.lines = lines
            .iter()
            .map(|(price, q)| {
                let p = SeedProduct { sku: "X".into(), title: "X".into(), price: price.parse().expect("price") };
                (p, *q)
            })
            .collect();
        o
    }

    #[test]
    fn gross_prices_keep_the_customers_total() {
        let o = seed_order(true, 10, &[("12.99", 3), ("4.99", 1)]);
        let m = order_money(&o);
        assert_eq!(m.total, o.totals().total, "with prices incl. tax the customer pays the seeded gross total");
        let gross_lines: Decimal = m.lines.iter().map(|l| l.subtotal + l.subtotal_tax).sum();
        assert_eq!(gross_lines, "43.96".parse::<Decimal>().expect("d"), "net + tax of each line is its gross price");
        assert_eq!(m.discount_total + m.discount_tax, "4.40".parse::<Decimal>().expect("d"), "10% of 43.96 gross");
    }

    #[test]
    fn net_prices_add_tax_per_line() {
        let o = seed_order(false, 0, &[("10.00", 2), ("5.55", 1)]);
        let m = order_money(&o);
        assert_eq!(m.total, m.lines.iter().map(|l| l.total).sum::<Decimal>() + m.shipping_total + m.total_tax);
        assert_eq!(amount(m.cart_tax), "4.85", "3.80 + 1.05 (1.0545 rounded), each line rounded");
        assert_eq!(amount(m.shipping_tax), "0.93", "19% of 4.90");
    }
}
