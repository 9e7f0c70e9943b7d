//! WooCommerce customers: read changed ones, look one up, change fields.
//!
//! Follows https://woocommerce.github.io/woocommerce-rest-api-docs/#customers
//! (#list-all-customers: `email`, `role`, `orderby` of `id`, `include`,
//! `name` or `registered_date`; #update-a-customer: `email`, `billing`).
//! The customers list has no `modified_after` (its controller is not one of
//! the CRUD controllers that gained it in WooCommerce 5.8), so a read of
//! changed customers pages through all of them (`role=all`, by id) and
//! keeps those whose `date_modified_gmt` is at or after `since`, returned
//! oldest change first in one page.
//!
//! The customer's address is their billing address (it holds the phone
//! number too). An email change is written to the account and to the
//! billing address, which is where WooCommerce sends order emails.

use super::orders::WooAddress;
use super::{gmt_date, WooCommerce, SYSTEM};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Deserialize)]
struct WooCustomer {
    id: u64,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    date_created_gmt: Option<String>,
    #[serde(default)]
    date_modified_gmt: Option<String>,
    #[serde(default)]
    billing: Option<WooAddress>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl WooCustomer {
    fn into_reading(self) -> Result<CustomerReading> {
        let when = self.date_modified_gmt.as_deref().or(self.date_created_gmt.as_deref()).ok_or_else(|| {
            ConnectorError::Protocol(format!("{SYSTEM} customer {} has no date_modified_gmt", self.id))
        })?;
        let billing = self.billing.unwrap_or_default();
        let address = Address {
            name: None,
            line1: non_empty(billing.address_1),
            line2: non_empty(billing.address_2),
            city: non_empty(billing.city),
            postcode: non_empty(billing.postcode),
            country: non_empty(billing.country),
            phone: None,
        };
        Ok(CustomerReading {
            id: self.id.to_string(),
            updated_at: gmt_date(when, "date_modified_gmt")?,
            customer: Customer {
                id: Some(self.id.to_string()),
                email: non_empty(self.email).or_else(|| non_empty(billing.email)),
                first_name: non_empty(self.first_name),
                last_name: non_empty(self.last_name),
                phone: non_empty(billing.phone),
                addresses: (address != Address::default()).then_some(address).into_iter().collect(),
            },
        })
    }
}

/// The `PUT /customers/<id>` body for `changes` (`None` empties a field).
fn update_body(changes: &[(CustomerField, Option<String>)]) -> Value {
    let mut body = Map::new();
    let mut billing = Map::new();
    for (field, value) in changes {
        let v = json!(value.clone().unwrap_or_default());
        match field {
            CustomerField::Email => {
                body.insert("email".into(), v.clone());
                billing.insert("email".into(), v);
            }
            CustomerField::Phone => drop(billing.insert("phone".into(), v)),
            CustomerField::Line1 => drop(billing.insert("address_1".into(), v)),
            CustomerField::Line2 => drop(billing.insert("address_2".into(), v)),
            CustomerField::City => drop(billing.insert("city".into(), v)),
            CustomerField::Postcode => drop(billing.insert("postcode".into(), v)),
            CustomerField::Country => drop(billing.insert("country".into(), v)),
        }
    }
    if !billing.is_empty() {
        body.insert("billing".into(), Value::Object(billing));
    }
    Value::Object(body)
}

/// Customer ids are numbers; anything else names no customer.
fn numeric(id: &str) -> Option<u64> {
    id.trim().parse().ok().filter(|n| *n > 0)
}

impl WooCommerce {
    pub(super) async fn read_customers(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<CustomerReading>> {
        if after.is_some() {
            // Every change is returned in the first page (see the module doc).
            return Ok(Page { items: vec![], next: None });
        }
        let query = [("role", "all".to_owned()), ("orderby", "id".to_owned()), ("order", "asc".to_owned())];
        let all: Vec<WooCustomer> = self.all_pages("/customers", &query, "a list of customers").await?;
        let mut changed = all
            .into_iter()
            .map(WooCustomer::into_reading)
            .filter(|r| r.as_ref().map_or(true, |r| since.is_none_or(|s| r.updated_at >= s)))
            .collect::<Result<Vec<_>>>()?;
        changed.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
        Ok(Page { items: changed, next: None })
    }

    pub(super) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        let Some(id) = numeric(id) else { return Ok(None) };
        match self.get::<WooCustomer>(&format!("/customers/{id}"), &[], "a customer").await {
            Ok((c, _)) => Ok(Some(c.into_reading()?)),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        let query = [("email", email.trim().to_owned()), ("role", "all".to_owned())];
        let (found, _): (Vec<WooCustomer>, _) = self.get("/customers", &query, "customers by email").await?;
        let wanted = |c: &WooCustomer| c.email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(email.trim()));
        found.into_iter().find(wanted).map(WooCustomer::into_reading).transpose()
    }

    pub(super) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let gone =
            || ConnectorError::Rejected { message: format!("{SYSTEM} has no customer {id} any more"), fields: vec![] };
        let Some(n) = numeric(id) else { return Err(gone()) };
        match self.write::<Value>(Method::PUT, &format!("/customers/{n}"), &update_body(changes), "the customer").await
        {
            Err(ConnectorError::NotFound(_)) => Err(gone()),
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_documented_customer() {
        let body = br#"{"id":25,"date_created":"2017-03-21T16:09:28","date_created_gmt":"2017-03-21T19:09:28",
            "date_modified":"2017-03-21T16:09:30","date_modified_gmt":"2017-03-21T19:09:30","email":"john.doe@example.com",
            "first_name":"John","last_name":"Doe","role":"customer","username":"john.doe",
            "billing":{"first_name":"John","last_name":"Doe","company":"","address_1":"969 Market","address_2":"",
              "city":"San Francisco","state":"CA","postcode":"94103","country":"US","email":"john.doe@example.com","phone":"(555) 555-5555"},
            "shipping":{"first_name":"John","last_name":"Doe","company":"","address_1":"969 Market","address_2":"",
              "city":"San Francisco","state":"CA","postcode":"94103","country":"US"},"is_paying_customer":false}"#;
        let c: WooCustomer = crate::http::parse_json(SYSTEM, "a customer", body).expect("parse");
        let r = c.into_reading().expect("maps");
        assert_eq!(r.id, "25");
        assert_eq!(r.updated_at.to_rfc3339(), "2017-03-21T19:09:30+00:00", "the GMT date");
        assert_eq!(CustomerField::Phone.of(&r.customer).as_deref(), Some("5555555555"), "the billing phone");
        assert_eq!(CustomerField::Line2.of(&r.customer), None, "empty is none");
        assert_eq!(CustomerField::Postcode.of(&r.customer).as_deref(), Some("94103"));
    }

    #[test]
    fn changes_become_one_put_body() {
        let body = update_body(&[
            (CustomerField::Email, Some("ada@example.org".into())),
            (CustomerField::Phone, Some("+49 30 1234567".into())),
            (CustomerField::Line2, None),
        ]);
        assert_eq!(
            body,
            json!({ "email": "ada@example.org",
                "billing": { "email": "ada@example.org", "phone": "+49 30 1234567", "address_2": "" } }),
            "None empties a field; the email is the account's and the billing address's"
        );
    }
}
