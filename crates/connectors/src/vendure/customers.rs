//! Customers: `customers(options)` changed since a time (keyset paging as
//! for orders), `customer(id)`, `updateCustomer` for the email and phone,
//! and `updateCustomerAddress` / `createCustomerAddress` for the default
//! (shipping) address.

use super::orders::List;
use super::{ok_result, time, Keyset, Vendure};
use crate::traits::Page;
use crate::Result;
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, Customer, CustomerField, CustomerReading, FieldError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

const FIELDS: &str = "id emailAddress firstName lastName phoneNumber updatedAt
  addresses { id fullName streetLine1 streetLine2 city postalCode country { code } phoneNumber defaultShippingAddress }";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VCustomer {
    id: String,
    email_address: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone_number: Option<String>,
    updated_at: String,
    addresses: Option<Vec<VAddress>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VAddress {
    id: String,
    full_name: Option<String>,
    street_line1: Option<String>,
    street_line2: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    country: Option<Country>,
    phone_number: Option<String>,
    default_shipping_address: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Country {
    code: String,
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl VCustomer {
    /// The default shipping address, else the first.
    fn default_address(&self) -> Option<&VAddress> {
        let all = self.addresses.as_deref().unwrap_or_default();
        all.iter().find(|a| a.default_shipping_address == Some(true)).or_else(|| all.first())
    }

    fn reading(&self) -> Result<CustomerReading> {
        let address = self.default_address().map(|a| Address {
            name: text(&a.full_name),
            line1: text(&a.street_line1),
            line2: text(&a.street_line2),
            city: text(&a.city),
            postcode: text(&a.postal_code),
            country: a.country.as_ref().map(|c| c.code.to_uppercase()),
            phone: text(&a.phone_number),
        });
        Ok(CustomerReading {
            id: self.id.clone(),
            customer: Customer {
                id: Some(self.id.clone()),
                email: text(&self.email_address),
                first_name: text(&self.first_name),
                last_name: text(&self.last_name),
                phone: text(&self.phone_number),
                addresses: address.into_iter().collect(),
            },
            updated_at: time(&self.updated_at)?,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v)
        .map_err(|e| ConnectorError::Protocol(format!("Vendure sent customers that are not what Ferry asked for: {e}")))
}

/// The field `key` of a query's `data`. A `data` that is not an object is
/// an answer to another query: an error, not a panic (indexing a JSON
/// array or string by a key for writing panics) and not "no customer".
fn root(mut data: Value, key: &str) -> Result<Value> {
    match data.as_object_mut() {
        Some(fields) => Ok(fields.remove(key).unwrap_or(Value::Null)),
        None => {
            let text: String = data.to_string().chars().take(80).collect();
            Err(ConnectorError::Protocol(format!("Vendure sent data that is not an object with {key:?}: {text}")))
        }
    }
}

impl Vendure {
    async fn list_customers(&self, options: Value) -> Result<List<VCustomer>> {
        let query = format!(
            "query Customers($options: CustomerListOptions) {{ customers(options: $options) {{ totalItems items {{ {FIELDS} }} }} }}"
        );
        let data = self.gql(&query, json!({ "options": options })).await?;
        parse(root(data, "customers")?)
    }

    async fn one_customer(&self, id: &str) -> Result<Option<VCustomer>> {
        let query = format!("query Customer($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}");
        let data = self.gql(&query, json!({ "id": id })).await?;
        let c = root(data, "customer")?;
        if c.is_null() {
            return Ok(None);
        }
        parse(c).map(Some)
    }

    pub(crate) async fn read_customers(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<CustomerReading>> {
        let cursor = Keyset::start(since, after)?;
        let options = cursor.options(self.page_size(), json!({}));
        let (skip, take) = (options["skip"].as_u64().unwrap_or(0), options["take"].as_u64().unwrap_or(0));
        let list = self.list_customers(options).await?;
        let more = skip + (list.items.len() as u64) < list.total_items && list.items.len() as u64 >= take;
        let mut keys = Vec::new();
        let mut items = Vec::new();
        for c in &list.items {
            let r = c.reading()?;
            if cursor.already_read(&r.id, r.updated_at) {
                continue;
            }
            keys.push((r.id.clone(), r.updated_at));
            items.push(r);
        }
        Ok(Page { items, next: cursor.next(&keys, more).map(|k| k.encode()) })
    }

    pub(crate) async fn read_customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        match self.one_customer(id).await {
            Ok(c) => c.map(|c| c.reading()).transpose(),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn customer_by_email(&self, email: &str) -> Result<Option<CustomerReading>> {
        let wanted = email.trim();
        let list =
            self.list_customers(json!({ "take": 20, "filter": { "emailAddress": { "contains": wanted } } })).await?;
        list.items
            .iter()
            .find(|c| c.email_address.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(wanted)))
            .map(VCustomer::reading)
            .transpose()
    }

    pub(crate) async fn write_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        let current =
            self.one_customer(id).await?.ok_or_else(|| ConnectorError::NotFound(format!("Vendure customer {id}")))?;
        let mut own = Map::new();
        let mut address = Map::new();
        for (field, value) in changes {
            let v = value.clone().unwrap_or_default();
            match field {
                CustomerField::Email if v.is_empty() => {
                    return Err(ConnectorError::Rejected {
                        message: "Vendure needs an email address on every customer".into(),
                        fields: vec![FieldError { field: "email".into(), message: "required".into() }],
                    })
                }
                CustomerField::Email => own.insert("emailAddress".into(), v.into()),
                CustomerField::Phone => own.insert("phoneNumber".into(), v.into()),
                CustomerField::Line1 => address.insert("streetLine1".into(), v.into()),
                CustomerField::Line2 => address.insert("streetLine2".into(), v.into()),
                CustomerField::City => address.insert("city".into(), v.into()),
                CustomerField::Postcode => address.insert("postalCode".into(), v.into()),
                CustomerField::Country => address.insert("countryCode".into(), v.into()),
            };
        }
        if !own.is_empty() {
            own.insert("id".into(), id.into());
            let data = self
                .gql(
                    "mutation UpdateCustomer($input: UpdateCustomerInput!) { updateCustomer(input: $input) {
                       ... on Customer { id } ... on ErrorResult { errorCode message } } }",
                    json!({ "input": own }),
                )
                .await?;
            ok_result(&data["updateCustomer"], &format!("update customer {id}"))?;
        }
        if address.is_empty() {
            return Ok(());
        }
        match current.default_address() {
            Some(a) => {
                address.insert("id".into(), a.id.clone().into());
                let data = self
                    .gql(
                        "mutation UpdateAddress($input: UpdateAddressInput!) { updateCustomerAddress(input: $input) { id } }",
                        json!({ "input": address }),
                    )
                    .await?;
                ok_result(&data["updateCustomerAddress"], &format!("update the address of customer {id}")).map(|_| ())
            }
            None => {
                if !address.contains_key("streetLine1") || !address.contains_key("countryCode") {
                    return Err(ConnectorError::Rejected {
                        message: format!(
                            "customer {id} has no address in Vendure; a new one needs line 1 and a country"
                        ),
                        fields: vec![FieldError { field: "address".into(), message: "incomplete".into() }],
                    });
                }
                let name = [current.first_name.as_deref(), current.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                address.insert("fullName".into(), name.into());
                address.insert("defaultShippingAddress".into(), true.into());
                address.insert("defaultBillingAddress".into(), true.into());
                let data = self
                    .gql(
                        "mutation CreateAddress($id: ID!, $input: CreateAddressInput!) {
                           createCustomerAddress(customerId: $id, input: $input) { id } }",
                        json!({ "id": id, "input": address }),
                    )
                    .await?;
                ok_result(&data["createCustomerAddress"], &format!("add an address to customer {id}")).map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_of_another_type_is_a_protocol_error_not_a_panic() {
        // Found by the fuzz suite: `data["customers"].take()` on `{"data":[-0]}` panicked.
        for data in [json!([0]), json!("x"), json!(7), json!(true)] {
            assert!(matches!(root(data.clone(), "customers"), Err(ConnectorError::Protocol(_))), "{data}");
        }
        assert_eq!(root(json!({ "customer": null }), "customer"), Ok(Value::Null), "null stays \"no such customer\"");
        assert_eq!(root(json!({}), "customer"), Ok(Value::Null));
    }
}
