//! Customers: `res.partner` records with `customer_rank > 0`. Email and
//! phone are the partner's own fields, the address is the partner's
//! (`street`, `street2`, `city`, `zip`, `country_id` → `res.country.code`),
//! and any change to them moves the partner's `write_date`.
//!
//! Follows the res.partner model of Odoo's base module (Odoo 19 has no
//! `mobile` field any more: `phone` only).

use super::{many2one_id, parse_odoo_time, record_id, row_id, text, Odoo};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading};
use serde_json::{json, Map, Value};

const FIELDS: [&str; 9] = ["name", "email", "phone", "street", "street2", "city", "zip", "country_id", "write_date"];

impl Odoo {
    /// Rows as readings, with country codes looked up.
    async fn readings(&self, rows: &[Value]) -> Result<Vec<CustomerReading>> {
        let country_ids: Vec<i64> = rows.iter().filter_map(|r| many2one_id(r, "country_id")).collect();
        let codes: std::collections::HashMap<i64, String> = if country_ids.is_empty() {
            Default::default()
        } else {
            let rows =
                self.search_read("res.country", json!([["id", "in", country_ids]]), &["code"], json!({})).await?;
            rows.iter().filter_map(|r| Some((r.get("id")?.as_i64()?, text(r, "code")?))).collect()
        };
        rows.iter()
            .map(|r| {
                let id = row_id(r, "res.partner")?;
                let address = Address {
                    name: text(r, "name"),
                    line1: text(r, "street"),
                    line2: text(r, "street2"),
                    city: text(r, "city"),
                    postcode: text(r, "zip"),
                    country: many2one_id(r, "country_id").and_then(|c| codes.get(&c).cloned()),
                    phone: None,
                };
                let has_address = [&address.line1, &address.line2, &address.city, &address.postcode, &address.country]
                    .iter()
                    .any(|f| f.is_some());
                Ok(CustomerReading {
                    id: id.to_string(),
                    updated_at: parse_odoo_time(&text(r, "write_date").unwrap_or_default())?,
                    customer: Customer {
                        id: Some(id.to_string()),
                        email: text(r, "email"),
                        first_name: text(r, "name"),
                        last_name: None,
                        phone: text(r, "phone"),
                        addresses: if has_address { vec![address] } else { vec![] },
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
        let domain = vec![json!(["customer_rank", ">", 0])];
        let (rows, next) = self.changed_page("res.partner", domain, since, after, &FIELDS[..8]).await?;
        Ok(Page { items: self.readings(&rows).await?, next })
    }

    pub(super) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        let id = record_id(id, "contact")?;
        let rows = self.search_read("res.partner", json!([["id", "=", id]]), &FIELDS, json!({})).await?;
        Ok(self.readings(&rows).await?.into_iter().next())
    }

    pub(super) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        let domain = json!([["email", "=ilike", email.trim()]]);
        let rows = self
            .search_read("res.partner", domain, &FIELDS, json!({ "order": "customer_rank desc, id asc", "limit": 1 }))
            .await?;
        Ok(self.readings(&rows).await?.into_iter().next())
    }

    pub(super) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        let id = record_id(id, "contact")?;
        let mut vals = Map::new();
        for (field, value) in changes {
            let name = match field {
                CustomerField::Email => "email",
                CustomerField::Phone => "phone",
                CustomerField::Line1 => "street",
                CustomerField::Line2 => "street2",
                CustomerField::City => "city",
                CustomerField::Postcode => "zip",
                CustomerField::Country => "country_id",
            };
            let value = match (field, value) {
                (CustomerField::Country, Some(code)) => match self.country_id(code).await? {
                    Some(c) => json!(c),
                    None => {
                        return Err(ConnectorError::Rejected {
                            message: format!("Odoo has no country with code {code:?}"),
                            fields: vec![ferry_domain::FieldError {
                                field: "country".into(),
                                message: "unknown".into(),
                            }],
                        })
                    }
                },
                (_, Some(v)) => json!(v),
                (_, None) => json!(false),
            };
            vals.insert(name.into(), value);
        }
        if vals.is_empty() {
            return Ok(());
        }
        self.write("res.partner", id, Value::Object(vals)).await
    }
}
