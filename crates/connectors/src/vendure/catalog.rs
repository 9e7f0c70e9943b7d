//! Product variants: the catalog (SKU, name, price, enabled), its updates
//! and stock, all through `productVariants` and `updateProductVariants`.
//! Stock read from Vendure is available = stockOnHand − stockAllocated, so
//! setting "available" writes stockOnHand = quantity + stockAllocated.

use super::orders::List;
use super::{currency, minor_units, money, ok_result, Vendure};
use crate::Result;
use ferry_domain::{CatalogField, CatalogItem, ConnectorError, FieldError};
use serde::Deserialize;
use serde_json::{json, Value};

pub const VARIANTS_QUERY: &str = r#"query Variants($options: ProductVariantListOptions) {
  activeChannel { defaultLanguageCode }
  productVariants(options: $options) {
    totalItems
    items { id sku name price currencyCode enabled stockOnHand stockAllocated
      stockLevels { stockLocationId stockOnHand stockAllocated } }
  }
}"#;

pub const UPDATE_VARIANTS: &str = r#"mutation UpdateVariants($input: [UpdateProductVariantInput!]!) {
  updateProductVariants(input: $input) { id sku name price enabled stockOnHand }
}"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariantsData {
    active_channel: LanguageChannel,
    product_variants: List<VVariant>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LanguageChannel {
    default_language_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VVariant {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub currency_code: String,
    pub enabled: bool,
    pub stock_on_hand: i64,
    pub stock_allocated: i64,
    pub stock_levels: Vec<VStockLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VStockLevel {
    pub stock_location_id: String,
    pub stock_on_hand: i64,
    pub stock_allocated: i64,
}

fn unknown_sku(sku: &str) -> ConnectorError {
    ConnectorError::Rejected {
        message: format!("SKU {sku} is not on any product variant in Vendure"),
        fields: vec![FieldError { field: "sku".into(), message: "unknown".into() }],
    }
}

impl Vendure {
    async fn variants(&self, options: Value) -> Result<VariantsData> {
        let data = self.gql(VARIANTS_QUERY, json!({ "options": options })).await?;
        serde_json::from_value(data).map_err(|e| {
            ConnectorError::Protocol(format!("Vendure sent variants that are not what Ferry asked for: {e}"))
        })
    }

    /// The variant with this SKU and the channel's default language.
    async fn variant(&self, sku: &str) -> Result<(VVariant, String)> {
        let data = self.variants(json!({ "take": 2, "filter": { "sku": { "eq": sku } } })).await?;
        let lang = data.active_channel.default_language_code;
        // The filter is a match, not equality on every database: check.
        let v = data.product_variants.items.into_iter().find(|v| v.sku == sku).ok_or_else(|| unknown_sku(sku))?;
        Ok((v, lang))
    }

    async fn update_variant(&self, input: Value, what: &str) -> Result<()> {
        let data = self.gql(UPDATE_VARIANTS, json!({ "input": [input] })).await?;
        let updated = data["updateProductVariants"].as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
        ok_result(&updated, what).map(|_| ())
    }

    pub(crate) async fn read_catalog(&self) -> Result<Vec<CatalogItem>> {
        let mut out = Vec::new();
        let mut skip = 0u64;
        loop {
            let page = self.variants(json!({ "skip": skip, "take": 100, "sort": { "id": "ASC" } })).await?;
            let n = page.product_variants.items.len() as u64;
            for v in page.product_variants.items {
                if v.sku.trim().is_empty() {
                    continue;
                }
                let price = money(v.price, &currency(&v.currency_code)?);
                out.push(CatalogItem { sku: v.sku, title: Some(v.name), price: Some(price), active: Some(v.enabled) });
            }
            skip += n;
            if n == 0 || skip >= page.product_variants.total_items {
                return Ok(out);
            }
        }
    }

    pub(crate) async fn write_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let (v, lang) = self.variant(sku).await?;
        let input = match field {
            CatalogField::Title(t) => json!({ "id": v.id, "translations": [{ "languageCode": lang, "name": t }] }),
            CatalogField::Price(p) => {
                if p.currency.code() != v.currency_code {
                    return Err(ConnectorError::Rejected {
                        message: format!(
                            "the price {p} is not in {}, the currency of {sku} in Vendure",
                            v.currency_code
                        ),
                        fields: vec![FieldError { field: "price".into(), message: "other currency".into() }],
                    });
                }
                json!({ "id": v.id, "price": minor_units(p)? })
            }
            CatalogField::Active(on) => json!({ "id": v.id, "enabled": on }),
        };
        self.update_variant(input, &format!("update {sku}")).await
    }

    /// Available stock of `sku` at `location` (or the setting, or the
    /// variant's total): stockOnHand − stockAllocated.
    pub async fn available(&self, sku: &str, location: &str) -> Result<i64> {
        let (v, _) = self.variant(sku).await?;
        Ok(match self.location_id(location) {
            None => v.stock_on_hand - v.stock_allocated,
            Some(loc) => v
                .stock_levels
                .iter()
                .find(|l| l.stock_location_id == loc)
                .map(|l| l.stock_on_hand - l.stock_allocated)
                .unwrap_or(0),
        })
    }

    fn location_id(&self, location: &str) -> Option<String> {
        match location.trim() {
            "" | "default" => self.location.clone(),
            id => Some(id.to_owned()),
        }
    }

    pub(crate) async fn write_available(&self, sku: &str, location: &str, quantity: i64) -> Result<()> {
        if quantity < 0 {
            return Err(ConnectorError::Rejected {
                message: format!("cannot make {quantity} of {sku} available"),
                fields: vec![FieldError { field: "quantity".into(), message: "negative".into() }],
            });
        }
        let (v, _) = self.variant(sku).await?;
        let input = match self.location_id(location) {
            None => json!({ "id": v.id, "stockOnHand": quantity + v.stock_allocated }),
            Some(loc) => {
                let allocated =
                    v.stock_levels.iter().find(|l| l.stock_location_id == loc).map_or(0, |l| l.stock_allocated);
                json!({ "id": v.id, "stockLevels": [{ "stockLocationId": loc, "stockOnHand": quantity + allocated }] })
            }
        };
        self.update_variant(input, &format!("set the stock of {sku}")).await
    }
}
