//! ERPNext customers: email and phone live on the customer's primary
//! Contact (the Customer's `email_id` / `mobile_no` are fetched from it and
//! read-only), the address on its primary Address (or the first Address
//! linked to it). Changes to either do not touch the Customer's `modified`,
//! so changed Contacts and Addresses are read too.
//!
//! Follows docs.frappe.io/framework/user/en/api/rest (list filters, child
//! table filters as `[doctype, field, op, value]`, PUT sends only the fields
//! that change; a child table sent replaces the stored rows) and the
//! Customer, Contact and Address doctypes of frappe/erpnext.

use super::{country_name, string_field, ErpNext};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;

const PAGE: usize = 200;
/// Where a read of changed customers is: which doctype, and how far.
const PHASES: [&str; 3] = ["Customer", "Address", "Contact"];

/// ERPNext country names back to ISO codes (the store's form).
pub(super) fn country_code(name: &str) -> Option<String> {
    super::COUNTRIES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| (*c).to_owned())
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An ERPNext Address (a document or a list row) as Ferry's `Address`; its
/// country, stored in words, as the ISO code.
pub(super) fn address_of(a: &Value) -> Address {
    Address {
        name: text(a, "address_title"),
        line1: text(a, "address_line1"),
        line2: text(a, "address_line2"),
        city: text(a, "city"),
        postcode: text(a, "pincode"),
        country: text(a, "country").and_then(|c| country_code(&c)),
        phone: text(a, "phone"),
    }
}

impl ErpNext {
    /// Makes Address `address` the customer's primary one.
    pub(super) async fn set_primary_address(&self, customer: &str, address: &str) -> Result<()> {
        let body = json!({ "customer_primary_address": address });
        self.call(Method::PUT, &self.doc_url("Customer", customer), &[], Some(&body)).await.map(|_| ())
    }

    fn doc_url(&self, doctype: &str, name: &str) -> String {
        format!("{}/{}", self.resource_url(doctype), urlencoding::encode(name))
    }

    /// One document, or `None` when it does not exist.
    async fn get_doc(&self, doctype: &str, name: &str) -> Result<Option<Value>> {
        match self.call(Method::GET, &self.doc_url(doctype, name), &[], None).await {
            Ok(v) => Ok(Some(v)),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The customer's address: its primary one, else the first linked to it.
    async fn customer_address(&self, customer: &Value, name: &str) -> Result<Option<Value>> {
        if let Some(primary) = text(customer, "customer_primary_address") {
            if let Some(doc) = self.get_doc("Address", &primary).await? {
                return Ok(Some(doc));
            }
        }
        let filters =
            json!([["Dynamic Link", "link_doctype", "=", "Customer"], ["Dynamic Link", "link_name", "=", name]]);
        let rows = self.list("Address", filters, json!(["name"]), 1).await?;
        match rows.first() {
            Some(row) => self.get_doc("Address", &string_field(row, "name", "Address")?).await,
            None => Ok(None),
        }
    }

    /// Reads customers `names` whole, in a few list calls: the customers,
    /// then their primary addresses; only a customer without a primary
    /// address costs one more call (the first address linked to it).
    /// `changed` is the newest `modified` that made us read each (its own,
    /// its contact's or its address's).
    async fn readings(
        &self,
        names: &[String],
        changed: &HashMap<String, DateTime<Utc>>,
    ) -> Result<Vec<CustomerReading>> {
        if names.is_empty() {
            return Ok(vec![]);
        }
        let fields = json!(["name", "customer_name", "email_id", "mobile_no", "customer_primary_address", "modified"]);
        let docs = self.list("Customer", json!([["name", "in", names]]), fields, names.len() as u32).await?;
        let primaries: Vec<String> = docs.iter().filter_map(|d| text(d, "customer_primary_address")).collect();
        let mut addresses: HashMap<String, Value> = HashMap::new();
        if !primaries.is_empty() {
            let fields = json!([
                "name",
                "address_title",
                "address_line1",
                "address_line2",
                "city",
                "pincode",
                "country",
                "phone"
            ]);
            let rows = self.list("Address", json!([["name", "in", primaries]]), fields, primaries.len() as u32).await?;
            for r in rows {
                if let Some(n) = text(&r, "name") {
                    addresses.insert(n, r);
                }
            }
        }
        let mut out = Vec::with_capacity(docs.len());
        for doc in &docs {
            let name = string_field(doc, "name", "Customer")?;
            let own = self.site_time(&string_field(doc, "modified", "Customer")?)?;
            let address = match text(doc, "customer_primary_address").and_then(|a| addresses.remove(&a)) {
                Some(a) => Some(a),
                None => self.customer_address(&json!({}), &name).await?,
            };
            let address = address.as_ref().map(address_of);
            out.push(CustomerReading {
                id: name.clone(),
                updated_at: changed.get(&name).map_or(own, |c| (*c).max(own)),
                customer: Customer {
                    id: Some(name),
                    email: text(doc, "email_id"),
                    first_name: text(doc, "customer_name"),
                    last_name: None,
                    phone: text(doc, "mobile_no"),
                    addresses: address.into_iter().collect(),
                },
            });
        }
        Ok(out)
    }

    /// Reads customer `name` whole, or `None` when it no longer exists.
    async fn reading(&self, name: &str) -> Result<Option<CustomerReading>> {
        Ok(self.readings(&[name.to_owned()], &HashMap::new()).await?.pop())
    }

    pub(super) async fn read_customers(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<CustomerReading>> {
        let bad = || ConnectorError::Protocol(format!("bad ERPNext customers page token {after:?}"));
        let (phase, start) = match after {
            Some(a) => {
                let (p, s) = a.split_once(':').ok_or_else(bad)?;
                (p.parse::<usize>().map_err(|_| bad())?, s.parse::<usize>().map_err(|_| bad())?)
            }
            None => (0, 0),
        };
        let doctype = *PHASES.get(phase).ok_or_else(bad)?;
        // `modified` is site-local: the filter is written in the site's time too.
        let filters = match since {
            Some(t) => {
                json!([["modified", ">=", t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S%.6f").to_string()]])
            }
            None if phase == 0 => json!([]),
            // A first read takes every customer: their contacts and addresses come with them.
            None => return Ok(Page { items: vec![], next: None }),
        };
        let rows = self.list_page(doctype, &filters, &json!(["name", "modified"]), "modified asc", start, PAGE).await?;
        // Which customers this page is about, and the newest change that says so.
        let mut changed: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for row in &rows {
            let name = string_field(row, "name", doctype)?;
            let modified = self.site_time(&string_field(row, "modified", doctype)?)?;
            let customers = if doctype == "Customer" {
                vec![name]
            } else {
                self.linked_customers(doctype, &name, &modified).await?
            };
            for c in customers {
                let at = changed.entry(c.clone()).or_insert(modified);
                *at = (*at).max(modified);
                if !order.contains(&c) {
                    order.push(c);
                }
            }
        }
        let mut items = Vec::with_capacity(order.len());
        for chunk in order.chunks(100) {
            items.extend(self.readings(chunk, &changed).await?);
        }
        let next = if rows.len() == PAGE {
            Some(format!("{phase}:{}", start + PAGE))
        } else if phase + 1 < PHASES.len() {
            Some(format!("{}:0", phase + 1))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    pub(super) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        self.reading(id).await
    }

    /// The customers a Contact or Address links to. What a document links
    /// to at one `modified` never changes, so it is remembered: a re-read
    /// of the overlap window costs no call for it.
    async fn linked_customers(&self, doctype: &str, name: &str, modified: &DateTime<Utc>) -> Result<Vec<String>> {
        let key = format!("{doctype}\u{1f}{name}\u{1f}{}", modified.timestamp_micros());
        if let Some(hit) = self.links_seen.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let Some(doc) = self.get_doc(doctype, name).await? else { return Ok(vec![]) };
        let customers: Vec<String> = doc
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|l| l.get("link_doctype").and_then(Value::as_str) == Some("Customer"))
            .filter_map(|l| text(l, "link_name"))
            .collect();
        let mut seen = self.links_seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 50_000 {
            seen.clear(); // a memo, not a store: start again rather than grow without end
        }
        seen.insert(key, customers.clone());
        Ok(customers)
    }

    pub(super) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        let rows = self.list("Customer", json!([["email_id", "=", email]]), json!(["name"]), 1).await?;
        match rows.first() {
            Some(row) => self.reading(&string_field(row, "name", "Customer")?).await,
            None => Ok(None),
        }
    }

    pub(super) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        let Some(customer) = self.get_doc("Customer", id).await? else {
            return Err(ConnectorError::Rejected {
                message: format!("ERPNext has no customer {id} any more"),
                fields: vec![],
            });
        };
        let change = |f: CustomerField| changes.iter().find(|(c, _)| *c == f).map(|(_, v)| v.clone());
        let (email, phone) = (change(CustomerField::Email), change(CustomerField::Phone));
        if email.is_some() || phone.is_some() {
            self.write_contact(id, &customer, email, phone).await?;
        }
        let address_fields = [
            (CustomerField::Line1, "address_line1"),
            (CustomerField::Line2, "address_line2"),
            (CustomerField::City, "city"),
            (CustomerField::Postcode, "pincode"),
            (CustomerField::Country, "country"),
        ];
        let mut fields = serde_json::Map::new();
        for (f, name) in address_fields {
            if let Some(v) = change(f) {
                let v = match (f, v) {
                    (CustomerField::Country, Some(code)) => Some(
                        country_name(&code)
                            .ok_or_else(|| ConnectorError::Rejected {
                                message: format!("Ferry does not know the ERPNext name of country {code:?}"),
                                fields: vec![],
                            })?
                            .to_owned(),
                    ),
                    (_, v) => v,
                };
                fields.insert(name.into(), json!(v));
            }
        }
        if fields.is_empty() {
            return Ok(());
        }
        match self.customer_address(&customer, id).await? {
            Some(address) => {
                let name = string_field(&address, "name", "Address")?;
                self.call(Method::PUT, &self.doc_url("Address", &name), &[], Some(&Value::Object(fields))).await?;
            }
            None => {
                let title = text(&customer, "customer_name").unwrap_or_else(|| id.to_owned());
                fields.insert("address_title".into(), json!(title));
                fields.insert("address_type".into(), json!("Billing"));
                fields.insert("links".into(), json!([{ "link_doctype": "Customer", "link_name": id }]));
                let created =
                    self.call(Method::POST, &self.resource_url("Address"), &[], Some(&Value::Object(fields))).await?;
                let name = string_field(&created, "name", "Address")?;
                self.set_primary_address(id, &name).await?;
            }
        }
        // The address changed in place: what was remembered of its place is stale.
        self.forget_addresses(id);
        Ok(())
    }

    /// Sets the primary email / mobile number on the customer's primary
    /// Contact (made when there is none), then saves the Customer so its
    /// fetched `email_id` / `mobile_no` follow.
    async fn write_contact(
        &self,
        id: &str,
        customer: &Value,
        email: Option<Option<String>>,
        phone: Option<Option<String>>,
    ) -> Result<()> {
        let contact = match text(customer, "customer_primary_contact") {
            Some(name) => self.get_doc("Contact", &name).await?,
            None => None,
        };
        let rows = |doc: Option<&Value>, table: &str| -> Vec<Value> {
            doc.and_then(|d| d.get(table)).and_then(Value::as_array).cloned().unwrap_or_default()
        };
        let mut email_ids = rows(contact.as_ref(), "email_ids");
        let mut phone_nos = rows(contact.as_ref(), "phone_nos");
        if let Some(e) = &email {
            email_ids.retain(|r| r.get("is_primary").and_then(Value::as_i64) != Some(1));
            if let Some(e) = e {
                email_ids.insert(0, json!({ "email_id": e, "is_primary": 1 }));
            }
        }
        if let Some(p) = &phone {
            phone_nos.retain(|r| r.get("is_primary_mobile_no").and_then(Value::as_i64) != Some(1));
            if let Some(p) = p {
                phone_nos.insert(0, json!({ "phone": p, "is_primary_mobile_no": 1 }));
            }
        }
        let mut body = json!({ "email_ids": email_ids, "phone_nos": phone_nos });
        if let Some(e) = email {
            body["email_id"] = json!(e);
        }
        if let Some(p) = phone {
            body["mobile_no"] = json!(p);
        }
        match contact {
            Some(c) => {
                let name = string_field(&c, "name", "Contact")?;
                self.call(Method::PUT, &self.doc_url("Contact", &name), &[], Some(&body)).await?;
                self.call(Method::PUT, &self.doc_url("Customer", id), &[], Some(&json!({}))).await?;
            }
            None => {
                body["first_name"] = json!(text(customer, "customer_name").unwrap_or_else(|| id.to_owned()));
                body["links"] = json!([{ "link_doctype": "Customer", "link_name": id }]);
                let created = self.call(Method::POST, &self.resource_url("Contact"), &[], Some(&body)).await?;
                let name = string_field(&created, "name", "Contact")?;
                let link = json!({ "customer_primary_contact": name });
                self.call(Method::PUT, &self.doc_url("Customer", id), &[], Some(&link)).await?;
            }
        }
        Ok(())
    }
}
