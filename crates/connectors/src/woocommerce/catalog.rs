//! WooCommerce products and variations: the catalog, its fields and stock.
//!
//! Follows https://woocommerce.github.io/woocommerce-rest-api-docs/#products
//! (`sku`, `type`, `status`, `regular_price` as text, `manage_stock`,
//! `stock_quantity`, the `sku` filter), #product-variations and
//! #batch-update-products / #batch-update-product-variations (at most 100
//! items a request; each item answers with the record or its own `error`).
//!
//! A simple product is one SKU with its own name; a variable product's
//! variations are SKUs that share the product's name, so a variation has no
//! title of its own here. `publish` is active; an inactive product is set
//! to `draft` and an inactive variation to `private` (the admin's
//! "Enabled" box). WooCommerce keeps one stock count per product or
//! variation: the shop has one location, named by the `location` setting.
//! `?sku=` finds simple products only, so a SKU it does not find is looked
//! up in a full read of the catalog, which also refreshes the SKU map.

use super::{WooCommerce, SYSTEM};
use crate::Result;
use ferry_domain::{CatalogField, CatalogItem, ConnectorError, FieldError, Money};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

/// Where WooCommerce keeps one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Product(u64),
    Variation { product: u64, variation: u64 },
}

impl Target {
    fn path(self) -> String {
        match self {
            Self::Product(id) => format!("/products/{id}"),
            Self::Variation { product, variation } => format!("/products/{product}/variations/{variation}"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct WooProduct {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "super::text")]
    sku: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default, deserialize_with = "super::text")]
    regular_price: String,
}

#[derive(Debug, Deserialize)]
struct WooVariation {
    id: u64,
    #[serde(default, deserialize_with = "super::text")]
    sku: String,
    #[serde(default)]
    status: String,
    #[serde(default, deserialize_with = "super::text")]
    regular_price: String,
}

/// One item of a batch answer: the record, or its error.
#[derive(Debug, Deserialize)]
struct BatchItem {
    #[serde(default)]
    error: Option<BatchError>,
}

#[derive(Debug, Deserialize)]
struct BatchError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    update: Vec<BatchItem>,
}

/// A price as text; `""` means none.
fn price(raw: &str, sku: &str, currency: &str) -> Result<Option<Money>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Money::parse(raw, currency)
        .map(Some)
        .map_err(|e| ConnectorError::Protocol(format!("{SYSTEM} SKU {sku}: regular_price {raw:?}: {e}")))
}

/// The fields a batch item sets for `field`.
fn batch_fields(target: Target, sku: &str, field: &CatalogField, currency: &str) -> Result<Value> {
    Ok(match (field, target) {
        (CatalogField::Title(_), Target::Variation { .. }) => {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "{sku} is a variation in {SYSTEM}: its title is the product's name and attributes, not its own"
                ),
                fields: vec![FieldError { field: "name".into(), message: "not per variation".into() }],
            })
        }
        (CatalogField::Title(title), Target::Product(_)) => json!({ "name": title }),
        (CatalogField::Price(m), _) if m.currency.code() != currency => {
            return Err(ConnectorError::Rejected {
                message: format!("the price of {sku} is in {} but the {SYSTEM} shop sells in {currency}", m.currency),
                fields: vec![FieldError { field: "regular_price".into(), message: "other currency".into() }],
            })
        }
        (CatalogField::Price(m), _) => {
            let mut amount = m.amount.round_dp(2);
            amount.rescale(2);
            json!({ "regular_price": amount.to_string() })
        }
        (CatalogField::Active(true), _) => json!({ "status": "publish" }),
        (CatalogField::Active(false), Target::Product(_)) => json!({ "status": "draft" }),
        (CatalogField::Active(false), Target::Variation { .. }) => json!({ "status": "private" }),
    })
}

impl WooCommerce {
    /// Every SKU with where it lives: simple products, and the variations
    /// of variable products (grouped and external products have no stock
    /// or price of their own to sync). Refreshes the SKU map.
    pub(super) async fn load_catalog(&self) -> Result<Vec<(CatalogItem, Target)>> {
        let currency = self.currency().await?;
        let products: Vec<WooProduct> = self.all_pages("/products", &[], "a list of products").await?;
        let mut out = Vec::new();
        for p in products {
            match p.kind.as_str() {
                "variable" => {
                    let path = format!("/products/{}/variations", p.id);
                    let variations: Vec<WooVariation> = self.all_pages(&path, &[], "a list of variations").await?;
                    for v in variations.into_iter().filter(|v| !v.sku.trim().is_empty()) {
                        let item = CatalogItem {
                            price: price(&v.regular_price, &v.sku, &currency)?,
                            title: None,
                            active: Some(v.status == "publish"),
                            sku: v.sku,
                        };
                        out.push((item, Target::Variation { product: p.id, variation: v.id }));
                    }
                }
                "simple" | "" if !p.sku.trim().is_empty() => {
                    let item = CatalogItem {
                        price: price(&p.regular_price, &p.sku, &currency)?,
                        title: Some(p.name),
                        active: Some(p.status == "publish"),
                        sku: p.sku,
                    };
                    out.push((item, Target::Product(p.id)));
                }
                _ => {}
            }
        }
        let map = out.iter().map(|(item, target)| (item.sku.clone(), *target)).collect();
        *self.skus.lock().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(out)
    }

    /// Where `sku` lives: the map, else `?sku=`, else a full read.
    async fn target(&self, sku: &str) -> Result<Option<Target>> {
        if let Some(t) = self.skus.lock().unwrap_or_else(|e| e.into_inner()).get(sku).copied() {
            return Ok(Some(t));
        }
        let (found, _): (Vec<WooProduct>, _) =
            self.get("/products", &[("sku", sku.to_owned())], "products by SKU").await?;
        if let Some(p) = found.into_iter().find(|p| p.sku == sku && p.kind != "variable") {
            let t = Target::Product(p.id);
            self.skus.lock().unwrap_or_else(|e| e.into_inner()).insert(sku.to_owned(), t);
            return Ok(Some(t));
        }
        Ok(self.load_catalog().await?.into_iter().find(|(item, _)| item.sku == sku).map(|(_, t)| t))
    }

    fn forget(&self, sku: &str) {
        self.skus.lock().unwrap_or_else(|e| e.into_inner()).remove(sku);
    }

    fn unknown(sku: &str) -> ConnectorError {
        ConnectorError::Rejected {
            message: format!("SKU {sku} is not on any product or variation in {SYSTEM}"),
            fields: vec![FieldError { field: "sku".into(), message: "unknown".into() }],
        }
    }

    /// Sets the stock of `sku` (see the module doc for `location`).
    pub(super) async fn write_stock(&self, sku: &str, location: &str, quantity: i64) -> Result<()> {
        if location != self.location {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "{SYSTEM} keeps one stock count per product; this connection's location is {:?}, not {location:?}",
                    self.location
                ),
                fields: vec![FieldError { field: "location".into(), message: "unknown".into() }],
            });
        }
        // Setting the count turns stock management on: Ferry keeps it.
        let body = json!({ "manage_stock": true, "stock_quantity": quantity });
        for attempt in 0..2 {
            let target = self.target(sku).await?.ok_or_else(|| Self::unknown(sku))?;
            match self.write::<Value>(Method::PUT, &target.path(), &body, "the updated product").await {
                // Deleted since the map was loaded: look it up again, once.
                Err(ConnectorError::NotFound(_)) if attempt == 0 => self.forget(sku),
                other => return other.map(drop),
            }
        }
        Err(Self::unknown(sku))
    }

    /// Sets catalog fields with the batch endpoints: one request for the
    /// simple products and one per variable product, at most 100 items
    /// each. Returns one result per change, in order; `Err` only when no
    /// change could be tried.
    pub async fn set_catalog_fields(&self, changes: &[(String, CatalogField)]) -> Result<Vec<Result<()>>> {
        let currency = self.currency().await?;
        let mut results: Vec<Option<Result<()>>> = (0..changes.len()).map(|_| None).collect();
        // (batch path, item body, index into changes)
        let mut groups: Vec<(String, Vec<(Value, usize)>)> = Vec::new();
        for (i, (sku, field)) in changes.iter().enumerate() {
            let Some(target) = self.target(sku).await? else {
                results[i] = Some(Err(Self::unknown(sku)));
                continue;
            };
            let (path, id) = match target {
                Target::Product(id) => ("/products/batch".to_owned(), id),
                Target::Variation { product, variation } => {
                    (format!("/products/{product}/variations/batch"), variation)
                }
            };
            match batch_fields(target, sku, field, &currency) {
                Ok(mut fields) => {
                    fields["id"] = json!(id);
                    match groups.iter_mut().find(|(p, items)| *p == path && items.len() < super::MAX_PAGE as usize) {
                        Some((_, items)) => items.push((fields, i)),
                        None => groups.push((path, vec![(fields, i)])),
                    }
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        for (path, items) in groups {
            let body = json!({ "update": items.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>() });
            let answer: BatchAnswer = self.write(Method::POST, &path, &body, "a batch answer").await?;
            if answer.update.len() != items.len() {
                return Err(ConnectorError::Protocol(format!(
                    "{SYSTEM} answered {} items to a batch of {}",
                    answer.update.len(),
                    items.len()
                )));
            }
            for ((_, i), item) in items.into_iter().zip(answer.update) {
                results[i] = Some(match item.error {
                    None => Ok(()),
                    Some(e) => {
                        let status = e.data.as_ref().and_then(|d| d.get("status")).and_then(Value::as_u64);
                        let status = status.and_then(|s| reqwest::StatusCode::from_u16(s as u16).ok());
                        let error = super::WooError { code: e.code, message: e.message, data: e.data };
                        if status == Some(reqwest::StatusCode::NOT_FOUND) {
                            self.forget(&changes[i].0);
                        }
                        Err(super::map_error(status.unwrap_or(reqwest::StatusCode::BAD_REQUEST), &error))
                    }
                });
            }
        }
        Ok(results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_the_documented_properties() {
        let eur = |s: &str| Money::parse(s, "EUR").expect("money");
        let product = Target::Product(7);
        let variation = Target::Variation { product: 7, variation: 8 };
        let f = |t, field: CatalogField| batch_fields(t, "MUG-01", &field, "EUR");
        assert_eq!(f(product, CatalogField::Price(eur("12.5"))).ok(), Some(json!({ "regular_price": "12.50" })));
        assert_eq!(f(product, CatalogField::Active(false)).ok(), Some(json!({ "status": "draft" })));
        assert_eq!(
            f(variation, CatalogField::Active(false)).ok(),
            Some(json!({ "status": "private" })),
            "the admin's Enabled box"
        );
        assert_eq!(f(variation, CatalogField::Active(true)).ok(), Some(json!({ "status": "publish" })));
        assert_eq!(f(product, CatalogField::Title("Mug".into())).ok(), Some(json!({ "name": "Mug" })));
        assert!(matches!(f(variation, CatalogField::Title("Mug".into())), Err(ConnectorError::Rejected { .. })));
        let usd = CatalogField::Price(Money::parse("1.00", "USD").expect("money"));
        assert!(matches!(f(product, usd), Err(ConnectorError::Rejected { .. })), "no silent currency change");
        assert_eq!(variation.path(), "/products/7/variations/8");
    }
}
