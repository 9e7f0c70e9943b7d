//! Shopify customers in the emulator: every person who ordered is a
//! customer (as in Shopify), with a default address from their first order.
//!
//! Follows shopify.dev/docs/api/admin-graphql/2025-07/queries/customers
//! (`sortKey: UPDATED_AT`; the `updated_at:>=` and `email:` search terms),
//! .../objects/Customer (`defaultEmailAddress`, `defaultPhoneNumber`,
//! `defaultAddress`), .../mutations/customerUpdate and
//! .../mutations/customerAddressUpdate / customerAddressCreate.

use super::{charge, first_arg, parse_updated_since, ts, user_error, ShopifySim};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// One customer as the store holds it.
#[derive(Debug, Clone)]
pub(crate) struct StoreCustomer {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// `address1 address2 city zip countryCodeV2` of the default address.
    pub address: Option<[Option<String>; 5]>,
    pub address_id: u64,
}

const ADDRESS_KEYS: [&str; 5] = ["address1", "address2", "city", "zip", "countryCodeV2"];

impl StoreCustomer {
    fn default_address(&self) -> Option<Value> {
        self.address.as_ref().map(|a| {
            let mut m = serde_json::Map::new();
            m.insert(
                "id".into(),
                json!(format!("gid://shopify/MailingAddress/{}?model_name=CustomerAddress", self.address_id)),
            );
            for (k, v) in ADDRESS_KEYS.iter().zip(a) {
                m.insert((*k).into(), json!(v));
            }
            Value::Object(m)
        })
    }

    fn node(&self) -> Value {
        let address = self.default_address();
        json!({
            "id": self.id, "firstName": self.first_name, "lastName": self.last_name, "updatedAt": ts(self.updated_at),
            "defaultEmailAddress": self.email.as_ref().map(|e| json!({ "emailAddress": e })),
            "defaultPhoneNumber": self.phone.as_ref().map(|p| json!({ "phoneNumber": p })),
            "defaultAddress": address,
        })
    }
}

/// See [`ShopifySim::default_addresses`].
pub(crate) struct DefaultAddresses(HashMap<String, Value>);

impl DefaultAddresses {
    /// The order node as served: its `customer` with `defaultAddress`.
    pub(crate) fn served(&self, node: &Value) -> Value {
        let mut node = node.clone();
        if let Some(customer) = node.get_mut("customer").and_then(Value::as_object_mut) {
            let id = customer.get("id").and_then(Value::as_str).unwrap_or_default();
            let address = self.0.get(id).cloned().unwrap_or(Value::Null);
            customer.insert("defaultAddress".into(), address);
        }
        node
    }
}

impl ShopifySim {
    /// Makes the customer of an order node known (the first order wins).
    pub(crate) fn remember_customer(&self, order: &Value, at: DateTime<Utc>) {
        let c = &order["customer"];
        let Some(id) = c["id"].as_str() else { return };
        let mut customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        if customers.iter().any(|k| k.id == id) {
            return;
        }
        let a = &order["shippingAddress"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let address_id = 9_000_000 + customers.len() as u64;
        customers.push(StoreCustomer {
            id: id.to_owned(),
            first_name: text(&c["firstName"]),
            last_name: text(&c["lastName"]),
            email: text(&c["email"]),
            phone: text(&c["phone"]),
            updated_at: at,
            address: a.is_object().then(|| ADDRESS_KEYS.map(|k| text(&a[k]))),
            address_id,
        });
    }

    /// Customer id → its `defaultAddress` now, for the `customer` of the
    /// orders being served (an order shows its customer as they are today,
    /// edits included).
    pub(crate) fn default_addresses(&self) -> DefaultAddresses {
        let customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        DefaultAddresses(customers.iter().map(|c| (c.id.clone(), c.default_address().unwrap_or(Value::Null))).collect())
    }

    /// The customer as the Admin API shows it.
    pub fn customer(&self, id: &str) -> Option<Value> {
        let customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        customers.iter().find(|c| c.id == id).map(StoreCustomer::node)
    }

    /// Every customer as the Admin API shows them, in the order they came.
    pub fn customers(&self) -> Vec<Value> {
        let customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        customers.iter().map(StoreCustomer::node).collect()
    }

    /// The id of the customer with this email.
    pub fn customer_id_by_email(&self, email: &str) -> Option<String> {
        let customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        customers
            .iter()
            .find(|c| c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .map(|c| c.id.clone())
    }

    /// A person edits a customer in the Shopify admin: `field` is `email`,
    /// `phone` or an address key (`address1`, `city`, `zip`, ...).
    pub fn edit_customer(&self, id: &str, field: &str, value: Option<&str>, at: DateTime<Utc>) -> bool {
        let mut customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        let Some(c) = customers.iter_mut().find(|c| c.id == id) else { return false };
        let value = value.map(str::to_owned);
        match field {
            "email" => c.email = value,
            "phone" => c.phone = value,
            key => {
                let Some(i) = ADDRESS_KEYS.iter().position(|k| *k == key) else { return false };
                c.address.get_or_insert_with(Default::default)[i] = value;
            }
        }
        c.updated_at = at;
        true
    }
}

/// `customers(first, after, query, sortKey: UPDATED_AT)`.
pub(super) fn customers(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let first = first_arg(vars)?;
    let query = vars.get("query").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    let email = query.strip_prefix("email:").map(|e| e.trim_matches('"').to_lowercase());
    let since =
        if email.is_some() { None } else { parse_updated_since(&query).map_err(|e| user_error(&e))?.map(|(t, _)| t) };
    let start = match vars.get("after").and_then(Value::as_str) {
        Some(c) => c.parse::<usize>().map_err(|_| user_error("Invalid cursor for current pagination sort."))?,
        None => 0,
    };
    let extensions = charge(shop, 2.0 + first as f64 / 2.0, 2.0 + first as f64 / 2.0)?;
    let mut found: Vec<StoreCustomer> = {
        let customers = shop.customers.lock().unwrap_or_else(|e| e.into_inner());
        customers
            .iter()
            .filter(|c| since.is_none_or(|s| c.updated_at >= s))
            .filter(|c| email.as_ref().is_none_or(|e| c.email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(e))))
            .cloned()
            .collect()
    };
    found.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    let page: Vec<Value> = found
        .iter()
        .enumerate()
        .skip(start)
        .take(first)
        .map(|(i, c)| json!({ "cursor": (i + 1).to_string(), "node": c.node() }))
        .collect();
    let end = start + page.len();
    Ok(json!({
        "data": { "customers": { "edges": page, "pageInfo": { "hasNextPage": end < found.len(), "endCursor": end.to_string() } } },
        "extensions": extensions
    }))
}

/// `customer(id)`.
pub(super) fn customer(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let extensions = charge(shop, 2.0, 1.0)?;
    let id = vars.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(json!({ "data": { "customer": shop.customer(id) }, "extensions": extensions }))
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(d), None) if !a.is_empty() && d.contains('.'))
}

fn valid_phone(p: &str) -> bool {
    p.starts_with('+') && p.len() >= 8 && p[1..].chars().all(|c| c.is_ascii_digit())
}

/// `customerUpdate(input: {id, email?, phone?})`.
pub(super) fn update_customer(shop: &ShopifySim, vars: &Value, now: DateTime<Utc>) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let input = vars.get("input").cloned().unwrap_or_default();
    let id = input.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut errors = Vec::new();
    let mut customers = shop.customers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(c) = customers.iter_mut().find(|c| c.id == id) else {
        let e = [json!({ "field": ["id"], "message": "Customer does not exist" })];
        return Ok(
            json!({ "data": { "customerUpdate": { "customer": null, "userErrors": e } }, "extensions": extensions }),
        );
    };
    if let Some(email) = input.get("email") {
        match email.as_str() {
            Some(e) if valid_email(e) => c.email = Some(e.to_owned()),
            None if email.is_null() => c.email = None,
            _ => errors.push(json!({ "field": ["email"], "message": "Email is invalid" })),
        }
    }
    if let Some(phone) = input.get("phone") {
        match phone.as_str() {
            Some(p) if valid_phone(p) => c.phone = Some(p.to_owned()),
            None if phone.is_null() => c.phone = None,
            _ => errors.push(json!({ "field": ["phone"], "message": "Phone is invalid" })),
        }
    }
    if errors.is_empty() {
        c.updated_at = now;
    }
    Ok(
        json!({ "data": { "customerUpdate": { "customer": { "id": id }, "userErrors": errors } }, "extensions": extensions }),
    )
}

/// `customerAddressUpdate(customerId, addressId, address, setAsDefault)` and
/// `customerAddressCreate(customerId, address, setAsDefault)`: the address
/// sent replaces the stored one.
pub(super) fn write_address(
    shop: &ShopifySim,
    vars: &Value,
    create: bool,
    now: DateTime<Utc>,
) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let op = if create { "customerAddressCreate" } else { "customerAddressUpdate" };
    let id = vars.get("customerId").and_then(Value::as_str).unwrap_or_default();
    let a = vars.get("address").cloned().unwrap_or_default();
    let mut customers = shop.customers.lock().unwrap_or_else(|e| e.into_inner());
    let refuse = |field: &str, message: &str| json!({ "data": { op: { "address": null, "userErrors": [{ "field": ["address", field], "message": message }] } }, "extensions": extensions });
    let Some(c) = customers.iter_mut().find(|c| c.id == id) else {
        return Ok(refuse("customerId", "Customer does not exist"));
    };
    if !create {
        let wanted = vars.get("addressId").and_then(Value::as_str).unwrap_or_default();
        if !wanted.starts_with(&format!("gid://shopify/MailingAddress/{}", c.address_id)) || c.address.is_none() {
            return Ok(refuse("addressId", "Address does not exist"));
        }
    }
    let country = a.get("countryCode").and_then(Value::as_str).map(str::to_owned);
    if country.as_ref().is_some_and(|c| c.len() != 2 || !c.chars().all(|x| x.is_ascii_uppercase())) {
        return Ok(refuse("countryCode", "Country is invalid"));
    }
    let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
    c.address = Some([text("address1"), text("address2"), text("city"), text("zip"), country]);
    c.updated_at = now;
    let address = json!({ "id": format!("gid://shopify/MailingAddress/{}?model_name=CustomerAddress", c.address_id) });
    Ok(json!({ "data": { op: { "address": address, "userErrors": [] } }, "extensions": extensions }))
}
