//! Connectors: code for each kind of external system, behind the capability
//! traits `Store`, `Erp` and `Courier`. Every method returns the typed
//! `ConnectorError`, which alone decides what the engine does next.

pub mod easypost;
pub mod erpnext;
pub mod http;
pub mod karrio;
pub mod odoo;
pub mod order_check;
pub mod pacing;
pub mod settings;
pub mod shopify;
mod traits;
pub mod tryton;
pub mod vendure;
pub mod woocommerce;

pub use settings::{validate_base_url, SettingsError};
pub use traits::{Courier, Customers, Erp, OrderExport, Page, Store};

use ferry_domain::ConnectorError;

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

/// The kinds this build can connect to.
pub const KINDS: &[(&str, &str)] = &[
    ("shopify", "store"),
    ("woocommerce", "store"),
    ("vendure", "store"),
    ("erpnext", "erp"),
    ("odoo", "erp"),
    ("tryton", "erp"),
    ("easypost", "courier"),
    ("karrio", "courier"),
];

/// Builds the store connector for `kind`.
pub fn store(
    kind: &str,
    base_url: &str,
    settings: &serde_json::Value,
    secret: &str,
) -> Result<Box<dyn Store>, SettingsError> {
    match kind {
        "shopify" => Ok(Box::new(shopify::Shopify::new(base_url, settings, secret)?)),
        "woocommerce" => Ok(Box::new(woocommerce::WooCommerce::new(base_url, settings, secret)?)),
        "vendure" => Ok(Box::new(vendure::Vendure::new(base_url, settings, secret)?)),
        other => Err(SettingsError::UnknownKind { kind: other.to_owned(), role: "store" }),
    }
}

/// Builds the ERP connector for `kind`.
pub fn erp(
    kind: &str,
    base_url: &str,
    settings: &serde_json::Value,
    secret: &str,
) -> Result<Box<dyn Erp>, SettingsError> {
    match kind {
        "erpnext" => Ok(Box::new(erpnext::ErpNext::new(base_url, settings, secret)?)),
        "odoo" => Ok(Box::new(odoo::Odoo::new(base_url, settings, secret)?)),
        "tryton" => Ok(Box::new(tryton::Tryton::new(base_url, settings, secret)?)),
        other => Err(SettingsError::UnknownKind { kind: other.to_owned(), role: "ERP" }),
    }
}

/// Builds the courier connector for `kind`.
pub fn courier(
    kind: &str,
    base_url: &str,
    settings: &serde_json::Value,
    secret: &str,
) -> Result<Box<dyn Courier>, SettingsError> {
    match kind {
        "easypost" => Ok(Box::new(easypost::EasyPost::new(base_url, settings, secret)?)),
        "karrio" => Ok(Box::new(karrio::Karrio::new(base_url, settings, secret)?)),
        other => Err(SettingsError::UnknownKind { kind: other.to_owned(), role: "courier" }),
    }
}
