//! Where each Sales Order goes. ERPNext fills a Sales Order's shipping
//! address from the customer's primary address when none is given, so a
//! customer's second order to another place (a gift, an office) would be
//! shipped to the first one. Each order therefore names its own Address
//! (`shipping_address_name`), found among the customer's addresses or added
//! to them, as a person would in the desk.
//!
//! Follows docs.frappe.io/erpnext/user/manual/en/address (an Address links
//! to its customers through the `links` Dynamic Link table) and the Sales
//! Order's `shipping_address_name` field.

use super::{country_name, string_field, ErpNext};
use crate::Result;
use ferry_domain::{Address, Order};
use reqwest::Method;
use serde_json::json;

/// What makes two addresses the same place: street, postcode, city and
/// country, compared without case or surrounding spaces.
pub(super) fn place_key(customer: &str, a: &Address) -> String {
    let part = |s: &Option<String>| s.as_deref().unwrap_or_default().trim().to_lowercase();
    [customer.to_owned(), part(&a.line1), part(&a.line2), part(&a.postcode), part(&a.city), part(&a.country)]
        .join("\u{1f}")
}

/// An address worth writing down: it has a postcode.
pub(super) fn usable(a: Option<&Address>) -> Option<&Address> {
    a.filter(|a| a.postcode.as_deref().is_some_and(|p| !p.trim().is_empty()))
}

impl ErpNext {
    /// Adds an Address for `customer` (its title is the customer's name, as
    /// the Customer form's quick entry makes it) and returns its name.
    pub(super) async fn create_address(&self, customer: &str, title: &str, a: &Address, kind: &str) -> Result<String> {
        let mut doc = json!({
            "address_title": title,
            "address_type": kind,
            "address_line1": a.line1.clone().unwrap_or_default(),
            "address_line2": a.line2,
            "city": a.city.clone().unwrap_or_default(),
            "pincode": a.postcode,
            "phone": a.phone,
            "links": [{ "link_doctype": "Customer", "link_name": customer }],
        });
        if let Some(country) = a.country.as_deref().and_then(country_name) {
            doc["country"] = json!(country);
        }
        let created = self.call(Method::POST, &self.resource_url("Address"), &[], Some(&doc)).await?;
        let name = string_field(&created, "name", "Address")?;
        self.remember_address(customer, a, &name);
        Ok(name)
    }

    pub(super) fn remember_address(&self, customer: &str, a: &Address, name: &str) {
        self.addresses.lock().unwrap_or_else(|e| e.into_inner()).insert(place_key(customer, a), name.to_owned());
    }

    /// Forgets what is known of a customer's addresses (after an order
    /// naming them was refused: perhaps one was deleted or merged).
    pub(super) fn forget_addresses(&self, customer: &str) {
        let prefix = format!("{customer}\u{1f}");
        self.addresses.lock().unwrap_or_else(|e| e.into_inner()).retain(|k, _| !k.starts_with(&prefix));
    }

    /// The Address the order ships to, among `customer`'s or added to them;
    /// `None` when the order has no usable shipping address (ERPNext then
    /// uses the customer's primary one).
    pub(super) async fn order_address(&self, customer: &str, order: &Order) -> Result<Option<String>> {
        let Some(a) = usable(order.shipping_address.as_ref()) else { return Ok(None) };
        let key = place_key(customer, a);
        let known = |s: &Self| s.addresses.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        if let Some(name) = known(self) {
            return Ok(Some(name));
        }
        // One at a time with customers: two orders to one new place would
        // otherwise both add it.
        let _one_at_a_time = self.customer_lock.lock().await;
        if let Some(name) = known(self) {
            return Ok(Some(name));
        }
        if let Some(name) = self.find_address(customer, a).await? {
            self.remember_address(customer, a, &name);
            return Ok(Some(name));
        }
        let title = a.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| order.customer.display_name());
        self.create_address(customer, &title, a, "Shipping").await.map(Some)
    }

    /// An Address of `customer` at the same place as `a`: one list call,
    /// filtered on the address's links as ERPNext's own party code does.
    async fn find_address(&self, customer: &str, a: &Address) -> Result<Option<String>> {
        let filters = json!([
            ["Dynamic Link", "link_doctype", "=", "Customer"],
            ["Dynamic Link", "link_name", "=", customer],
            ["pincode", "=", a.postcode.as_deref().unwrap_or_default().trim()]
        ]);
        let fields = json!(["name", "address_line1", "address_line2", "city", "pincode", "country"]);
        let wanted = place_key(customer, a);
        for row in self.list("Address", filters, fields, 100).await? {
            if place_key(customer, &super::customers::address_of(&row)) == wanted {
                return string_field(&row, "name", "Address").map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line1: &str, postcode: &str, city: &str) -> Address {
        Address {
            line1: Some(line1.into()),
            postcode: Some(postcode.into()),
            city: Some(city.into()),
            country: Some("DE".into()),
            ..Address::default()
        }
    }

    #[test]
    fn one_place_whatever_the_case_and_spaces() {
        assert_eq!(
            place_key("C1", &at("1 Market Street", "10115", "Berlin")),
            place_key("C1", &at(" 1 market street", "10115 ", "BERLIN"))
        );
        assert_ne!(
            place_key("C1", &at("1 Market Street", "10115", "Berlin")),
            place_key("C1", &at("1 Market Street", "20095", "Hamburg"))
        );
        assert_ne!(
            place_key("C1", &at("1 Market Street", "10115", "Berlin")),
            place_key("C2", &at("1 Market Street", "10115", "Berlin")),
            "another customer's address is theirs"
        );
    }

    #[test]
    fn an_address_without_a_postcode_is_not_written_down() {
        assert!(usable(Some(&at("1 Market Street", " ", "Berlin"))).is_none());
        assert!(usable(None).is_none());
        assert!(usable(Some(&at("1 Market Street", "10115", "Berlin"))).is_some());
    }
}
