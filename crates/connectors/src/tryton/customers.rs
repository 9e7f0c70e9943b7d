//! Customers: `party.party` records. Email and phone are the party's first
//! `party.contact_mechanism` of type `email` / `phone` (or `mobile`); the
//! address is its first `party.address` (by `sequence`, then id): `street`
//! (line 1, and line 2 on a second line), `city`, `postal_code`,
//! `country` → `country.country.code`. Changes Ferry makes go through
//! `party.party.write` with one2many actions so the party's `write_date`
//! moves; the feed is the party's own change time (an address edited alone
//! through another model does not move it).
//!
//! Parties are found for an order by email (a contact mechanism), then by
//! name and postal code, and created with their address otherwise.

use super::feed::changed_at;
use super::{nested, record_id, row_id, text, Tryton};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading, FieldError, Order};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const ADDRESS_FIELDS: [&str; 6] = ["party", "street", "city", "postal_code", "country.code", "sequence"];

impl Tryton {
    /// Party rows as readings, with their contact mechanisms and first address.
    async fn readings(&self, rows: &[Value]) -> Result<Vec<CustomerReading>> {
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.get("id")?.as_i64()).collect();
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mechanisms =
            self.rows_where("party.contact_mechanism", "party", json!(ids), &["party", "type", "value"]).await?;
        let mut addresses = self.rows_where("party.address", "party", json!(ids), &ADDRESS_FIELDS).await?;
        addresses.sort_by_key(|a| {
            (a.get("sequence").and_then(Value::as_i64).unwrap_or(i64::MAX), a.get("id").and_then(Value::as_i64))
        });
        let first = |party: i64, types: &[&str]| {
            mechanisms
                .iter()
                .filter(|m| m.get("party").and_then(Value::as_i64) == Some(party))
                .find(|m| text(m, "type").is_some_and(|t| types.contains(&t.as_str())))
                .and_then(|m| text(m, "value"))
        };
        let mut address_of: HashMap<i64, &Value> = HashMap::new();
        for a in &addresses {
            if let Some(p) = a.get("party").and_then(Value::as_i64) {
                address_of.entry(p).or_insert(a);
            }
        }
        rows.iter()
            .map(|r| {
                let id = row_id(r, "party.party")?;
                let address = address_of.get(&id).map(|a| {
                    let street = text(a, "street").unwrap_or_default();
                    let mut lines = street.lines().map(str::trim).filter(|l| !l.is_empty());
                    let line1 = lines.next().map(str::to_owned);
                    let rest: Vec<&str> = lines.collect();
                    Address {
                        name: text(r, "name"),
                        line1,
                        line2: (!rest.is_empty()).then(|| rest.join(", ")),
                        city: text(a, "city"),
                        postcode: text(a, "postal_code"),
                        country: nested(a, "country", "code"),
                        phone: None,
                    }
                });
                let has_address = address.as_ref().is_some_and(|a| {
                    [&a.line1, &a.line2, &a.city, &a.postcode, &a.country].iter().any(|f| f.is_some())
                });
                Ok(CustomerReading {
                    id: id.to_string(),
                    updated_at: changed_at(r)
                        .ok_or_else(|| ConnectorError::Protocol(format!("Tryton party {id} has no create_date")))?,
                    customer: Customer {
                        id: Some(id.to_string()),
                        email: first(id, &["email"]),
                        first_name: text(r, "name"),
                        last_name: None,
                        phone: first(id, &["phone", "mobile"]),
                        addresses: if has_address { address.into_iter().collect() } else { vec![] },
                    },
                })
            })
            .collect()
    }

    pub(super) async fn read_customers(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<CustomerReading>> {
        let (rows, next) = self.changed_page("party.party", json!([]), since, after, &["name"], json!({})).await?;
        Ok(Page { items: self.readings(&rows).await?, next })
    }

    pub(super) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        let id = record_id(id, "party")?;
        let fields = ["name", "write_date", "create_date"];
        let rows = self
            .search_read("party.party", json!([["id", "=", id]]), 0, Some(1), json!([]), &fields, &json!({}))
            .await?;
        Ok(self.readings(&rows).await?.into_iter().next())
    }

    pub(super) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        let Some(party) = self.party_by_email(email).await? else { return Ok(None) };
        self.read_customer(&party.to_string()).await
    }

    async fn party_by_email(&self, email: &str) -> Result<Option<i64>> {
        let domain = json!([["type", "=", "email"], ["value", "ilike", email.trim()]]);
        let rows = self
            .search_read("party.contact_mechanism", domain, 0, Some(1), json!([["id", "ASC"]]), &["party"], &json!({}))
            .await?;
        Ok(rows.first().and_then(|r| r.get("party")?.as_i64()))
    }

    /// `country.country` id of an ISO code, if Tryton knows it.
    async fn country_id(&self, code: &str) -> Result<Option<i64>> {
        let rows = self
            .search_read(
                "country.country",
                json!([["code", "=", code.to_uppercase()]]),
                0,
                Some(1),
                json!([]),
                &["code"],
                &json!({}),
            )
            .await?;
        rows.first().map(|r| row_id(r, "country.country")).transpose()
    }

    pub(super) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        let id = record_id(id, "party")?;
        let mechanisms = self.rows_where("party.contact_mechanism", "party", json!([id]), &["type", "value"]).await?;
        let mut addresses = self.rows_where("party.address", "party", json!([id]), &ADDRESS_FIELDS).await?;
        addresses.sort_by_key(|a| {
            (a.get("sequence").and_then(Value::as_i64).unwrap_or(i64::MAX), a.get("id").and_then(Value::as_i64))
        });
        let mut mechanism_actions = Vec::new();
        let mut address = Map::new();
        let current = addresses.first();
        let street = current.and_then(|a| text(a, "street")).unwrap_or_default();
        let (mut line1, mut line2) = match street.split_once('\n') {
            Some((a, b)) => (Some(a.trim().to_owned()), Some(b.trim().to_owned())),
            None => ((!street.is_empty()).then(|| street.clone()), None),
        };
        let mut street_changed = false;
        for (field, value) in changes {
            match field {
                CustomerField::Email | CustomerField::Phone => {
                    let kinds: &[&str] = if *field == CustomerField::Email { &["email"] } else { &["phone", "mobile"] };
                    let existing =
                        mechanisms.iter().find(|m| text(m, "type").is_some_and(|t| kinds.contains(&t.as_str())));
                    match (existing.and_then(|m| m.get("id")?.as_i64()), value) {
                        (Some(m), Some(v)) => mechanism_actions.push(json!(["write", [m], { "value": v }])),
                        (Some(m), None) => mechanism_actions.push(json!(["delete", [m]])),
                        (None, Some(v)) => {
                            mechanism_actions.push(json!(["create", [{ "type": kinds[0], "value": v }]]))
                        }
                        (None, None) => {}
                    }
                }
                CustomerField::Line1 => {
                    line1 = value.clone();
                    street_changed = true;
                }
                CustomerField::Line2 => {
                    line2 = value.clone();
                    street_changed = true;
                }
                CustomerField::City => {
                    address.insert("city".into(), json!(value));
                }
                CustomerField::Postcode => {
                    address.insert("postal_code".into(), json!(value));
                }
                CustomerField::Country => {
                    let country = match value {
                        None => Value::Null,
                        Some(code) => match self.country_id(code).await? {
                            Some(c) => json!(c),
                            None => {
                                return Err(ConnectorError::Rejected {
                                    message: format!("Tryton has no country with code {code:?}"),
                                    fields: vec![FieldError { field: "country".into(), message: "unknown".into() }],
                                })
                            }
                        },
                    };
                    address.insert("country".into(), country);
                }
            }
        }
        if street_changed {
            let street: Vec<String> = [line1, line2].into_iter().flatten().filter(|l| !l.is_empty()).collect();
            address.insert("street".into(), json!(street.join("\n")));
        }
        let mut vals = Map::new();
        if !mechanism_actions.is_empty() {
            vals.insert("contact_mechanisms".into(), Value::Array(mechanism_actions));
        }
        if !address.is_empty() {
            let action = match current.and_then(|a| a.get("id")?.as_i64()) {
                Some(a) => json!(["write", [a], address]),
                None => json!(["create", [address]]),
            };
            vals.insert("addresses".into(), json!([action]));
        }
        if vals.is_empty() {
            return Ok(());
        }
        self.write("party.party", &[id], Value::Object(vals)).await
    }

    /// The order's party and the address the sale uses: found by email,
    /// then by name and postal code; created when neither matches. An
    /// address that differs from the party's is added to it.
    pub(super) async fn ensure_party(&self, order: &Order) -> Result<(i64, i64)> {
        let _one_at_a_time = self.party_lock.lock().await;
        let name = order.customer.display_name();
        let wanted = order.shipping_address.as_ref().or(order.customer.addresses.first());
        let postcode = wanted.and_then(|a| a.postcode.as_deref()).filter(|p| !p.trim().is_empty());
        let mut party = match &order.customer.email {
            Some(email) => self.party_by_email(email).await?,
            None => None,
        };
        if party.is_none() {
            if let Some(zip) = postcode {
                let domain = json!([["name", "=", name], ["addresses.postal_code", "=", zip]]);
                let rows = self
                    .search_read("party.party", domain, 0, Some(1), json!([["id", "ASC"]]), &["name"], &json!({}))
                    .await?;
                party = rows.first().and_then(|r| r.get("id")?.as_i64());
            }
        }
        let mut address_vals = json!({});
        if let Some(a) = wanted {
            let street: Vec<&str> = [a.line1.as_deref(), a.line2.as_deref()].into_iter().flatten().collect();
            address_vals = json!({ "street": street.join("\n"), "city": a.city, "postal_code": a.postcode });
            if let Some(country) = a.country.as_deref() {
                if let Some(id) = self.country_id(country).await? {
                    address_vals["country"] = json!(id);
                }
            }
            if let Some(n) = &a.name {
                address_vals["party_name"] = json!(n);
            }
        }
        let party = match party {
            Some(p) => p,
            None => {
                let mut mechanisms = Vec::new();
                if let Some(email) = &order.customer.email {
                    mechanisms.push(json!({ "type": "email", "value": email }));
                }
                if let Some(phone) = order.customer.phone.clone().or_else(|| wanted.and_then(|a| a.phone.clone())) {
                    mechanisms.push(json!({ "type": "phone", "value": phone }));
                }
                let vals = json!({ "name": name, "contact_mechanisms": [["create", mechanisms]],
                    "addresses": [["create", [address_vals.clone()]]] });
                self.create("party.party", vals).await?
            }
        };
        let mut addresses = self.rows_where("party.address", "party", json!([party]), &ADDRESS_FIELDS).await?;
        addresses.sort_by_key(|a| {
            (a.get("sequence").and_then(Value::as_i64).unwrap_or(i64::MAX), a.get("id").and_then(Value::as_i64))
        });
        let same = |a: &Value| {
            let norm = |s: Option<String>| {
                s.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
            };
            wanted.is_none()
                || (norm(text(a, "street")) == norm(address_vals["street"].as_str().map(str::to_owned))
                    && norm(text(a, "postal_code")) == norm(address_vals["postal_code"].as_str().map(str::to_owned)))
        };
        if let Some(a) = addresses.iter().find(|a| same(a)) {
            return Ok((party, row_id(a, "party.address")?));
        }
        address_vals["party"] = json!(party);
        Ok((party, self.create("party.address", address_vals).await?))
    }
}
