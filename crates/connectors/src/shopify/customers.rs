//! Shopify customers: read changed ones, look one up, change one field.
//!
//! Follows shopify.dev/docs/api/admin-graphql/2025-07/queries/customers
//! (`sortKey: UPDATED_AT`, the `updated_at:>=` and `email:` search terms),
//! the 2025-04 `defaultEmailAddress` / `defaultPhoneNumber` fields,
//! shopify.dev/docs/api/admin-graphql/2025-07/mutations/customerUpdate and
//! .../mutations/customerAddressUpdate / customerAddressCreate (the whole
//! address is sent: it replaces the stored one).

use super::{user_errors, Connection, GraphQlResponse, Shopify, UserError};
use crate::{Page, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading};
use serde::Deserialize;
use serde_json::json;

const FIELDS: &str = "id firstName lastName updatedAt
      defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber }
      defaultAddress { id address1 address2 city zip countryCodeV2 }";

fn customers_query() -> String {
    format!(
        "query Customers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ cursor node {{ {FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"
    )
}

fn customer_query() -> String {
    format!("query Customer($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}")
}

pub const UPDATE_CUSTOMER: &str = r#"mutation UpdateCustomer($input: CustomerInput!) {
  customerUpdate(input: $input) { customer { id } userErrors { field message } }
}"#;

pub const UPDATE_ADDRESS: &str = r#"mutation UpdateAddress($customerId: ID!, $addressId: ID!, $address: MailingAddressInput!) {
  customerAddressUpdate(customerId: $customerId, addressId: $addressId, address: $address, setAsDefault: true) {
    address { id } userErrors { field message }
  }
}"#;

pub const CREATE_ADDRESS: &str = r#"mutation CreateAddress($customerId: ID!, $address: MailingAddressInput!) {
  customerAddressCreate(customerId: $customerId, address: $address, setAsDefault: true) {
    address { id } userErrors { field message }
  }
}"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomersData {
    pub customers: Connection<CustomerRecord>,
}

#[derive(Debug, Deserialize)]
pub struct OneCustomer {
    pub customer: Option<CustomerRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub default_email_address: Option<EmailNode>,
    pub default_phone_number: Option<PhoneNode>,
    pub default_address: Option<DefaultAddress>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailNode {
    pub email_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNode {
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAddress {
    pub id: String,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub country_code_v2: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MutationData {
    #[serde(alias = "customerUpdate", alias = "customerAddressUpdate", alias = "customerAddressCreate")]
    payload: Payload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    user_errors: Vec<UserError>,
}

impl CustomerRecord {
    fn into_reading(self) -> CustomerReading {
        let address = self.default_address.map(|a| Address {
            name: None,
            line1: a.address1,
            line2: a.address2,
            city: a.city,
            postcode: a.zip,
            country: a.country_code_v2,
            phone: None,
        });
        CustomerReading {
            id: self.id.clone(),
            updated_at: self.updated_at,
            customer: Customer {
                id: Some(self.id),
                email: self.default_email_address.and_then(|e| e.email_address),
                first_name: self.first_name,
                last_name: self.last_name,
                phone: self.default_phone_number.and_then(|p| p.phone_number),
                addresses: address.into_iter().collect(),
            },
        }
    }
}

impl Shopify {
    pub(super) async fn read_customers(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<CustomerReading>> {
        let query = since.map(|s| format!("updated_at:>='{}'", s.to_rfc3339_opts(SecondsFormat::Secs, true)));
        let variables = json!({ "first": self.page_size, "after": after, "query": query });
        let resp: GraphQlResponse<CustomersData> =
            self.post(&customers_query(), variables, f64::from(self.page_size) * 0.5 + 2.0).await?;
        let data = resp.into_data()?.customers;
        let next = match (data.page_info.has_next_page, data.page_info.end_cursor) {
            (true, Some(c)) => Some(c),
            (true, None) => {
                return Err(ConnectorError::Protocol("Shopify said there is a next page but gave no endCursor".into()))
            }
            _ => None,
        };
        Ok(Page { items: data.edges.into_iter().map(|e| e.node.into_reading()).collect(), next })
    }

    async fn customer_record(&self, id: &str) -> Result<Option<CustomerRecord>> {
        let resp: GraphQlResponse<OneCustomer> = self.post(&customer_query(), json!({ "id": id }), 2.0).await?;
        Ok(resp.into_data()?.customer)
    }

    pub(super) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        Ok(self.customer_record(id).await?.map(CustomerRecord::into_reading))
    }

    pub(super) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        // Quotes keep the address one search term.
        let query = format!("email:\"{}\"", email.replace('"', ""));
        let variables = json!({ "first": 5, "after": null, "query": query });
        let resp: GraphQlResponse<CustomersData> = self.post(&customers_query(), variables, 5.0).await?;
        let found = resp.into_data()?.customers.edges.into_iter().map(|e| e.node.into_reading());
        Ok(found.into_iter().find(|r| r.customer.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))))
    }

    pub(super) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        let what = format!("customer {id}");
        let change = |f: CustomerField| changes.iter().find(|(c, _)| *c == f).map(|(_, v)| v.clone());
        let mut input = serde_json::Map::new();
        input.insert("id".into(), json!(id));
        if let Some(email) = change(CustomerField::Email) {
            input.insert("email".into(), json!(email));
        }
        if let Some(phone) = change(CustomerField::Phone) {
            input.insert("phone".into(), json!(phone));
        }
        if input.len() > 1 {
            let data: MutationData = self.post(UPDATE_CUSTOMER, json!({ "input": input }), 10.0).await?.into_data()?;
            user_errors(&what, "email or phone", data.payload.user_errors)?;
        }
        let address_fields = [
            CustomerField::Line1,
            CustomerField::Line2,
            CustomerField::City,
            CustomerField::Postcode,
            CustomerField::Country,
        ];
        if !address_fields.iter().any(|f| change(*f).is_some()) {
            return Ok(());
        }
        let Some(record) = self.customer_record(id).await? else {
            return Err(ConnectorError::Rejected {
                message: format!("Shopify has no customer {id} any more"),
                fields: vec![],
            });
        };
        // The whole address is sent: it replaces the stored one.
        let now = record.default_address.clone();
        let pick = |f: CustomerField, current: Option<String>| change(f).unwrap_or(current);
        let address = json!({
            "address1": pick(CustomerField::Line1, now.as_ref().and_then(|a| a.address1.clone())),
            "address2": pick(CustomerField::Line2, now.as_ref().and_then(|a| a.address2.clone())),
            "city": pick(CustomerField::City, now.as_ref().and_then(|a| a.city.clone())),
            "zip": pick(CustomerField::Postcode, now.as_ref().and_then(|a| a.zip.clone())),
            "countryCode": pick(CustomerField::Country, now.as_ref().and_then(|a| a.country_code_v2.clone())),
            "firstName": record.first_name,
            "lastName": record.last_name,
        });
        let resp: GraphQlResponse<MutationData> = match now {
            Some(a) => {
                let vars = json!({ "customerId": id, "addressId": a.id, "address": address });
                self.post(UPDATE_ADDRESS, vars, 10.0).await?
            }
            None => self.post(CREATE_ADDRESS, json!({ "customerId": id, "address": address }), 10.0).await?,
        };
        user_errors(&what, "address", resp.into_data()?.payload.user_errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_documented_customer() {
        let body = r#"{"data":{"customer":{"id":"gid://shopify/Customer/1","firstName":"Ada","lastName":"Lovelace",
            "updatedAt":"2026-11-26T10:00:00Z","defaultEmailAddress":{"emailAddress":"ada@example.com"},
            "defaultPhoneNumber":null,"defaultAddress":{"id":"gid://shopify/MailingAddress/9","address1":"1 Main St",
            "address2":null,"city":"Berlin","zip":"10115","countryCodeV2":"DE"}}}}"#;
        let r: GraphQlResponse<OneCustomer> =
            crate::http::parse_json("Shopify", "customer", body.as_bytes()).expect("parse");
        let reading = r.into_data().expect("data").customer.expect("found").into_reading();
        assert_eq!(CustomerField::Email.of(&reading.customer).as_deref(), Some("ada@example.com"));
        assert_eq!(CustomerField::Postcode.of(&reading.customer).as_deref(), Some("10115"));
        assert_eq!(CustomerField::Phone.of(&reading.customer), None);
    }
}
