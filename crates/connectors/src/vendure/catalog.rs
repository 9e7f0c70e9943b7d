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

/// A stock count worked out from Vendure's (`None`: it overflowed, so
/// Vendure's counts are beyond what a count can hold).
fn counted(sku: &str, count: Option<i64>) -> Result<i64> {
    count.ok_or_else(|| {
        ConnectorError::Protocol(format!("Vendure's stock counts of {sku} are beyond what a count can hold"))
    })
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
        match self.location_id(location) {
            None => counted(sku, v.stock_on_hand.checked_sub(v.stock_allocated)),
            Some(loc) => match v.stock_levels.iter().find(|l| l.stock_location_id == loc) {
                Some(l) => counted(sku, l.stock_on_hand.checked_sub(l.stock_allocated)),
                None => Ok(0),
            },
        }
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
        // Stock on hand is what is available plus what orders hold.
        let input = match self.location_id(location) {
            None => json!({ "id": v.id, "stockOnHand": counted(sku, quantity.checked_add(v.stock_allocated))? }),
            Some(loc) => {
                let allocated =
                    v.stock_levels.iter().find(|l| l.stock_location_id == loc).map_or(0, |l| l.stock_allocated);
                let on_hand = counted(sku, quantity.checked_add(allocated))?;
                json!({ "id": v.id, "stockLevels": [{ "stockLocationId": loc, "stockOnHand": on_hand }] })
            }
        };
        self.update_variant(input, &format!("set the stock of {sku}")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    /// A loopback Vendure that answers the login (with its token header)
    /// and then `variants` to every request.
    fn vendure(variants: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        std::thread::spawn(move || {
            for (n, mut conn) in listener.incoming().flatten().enumerate() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).to_lowercase();
                let length =
                    text.lines().find_map(|l| l.strip_prefix("content-length:")?.trim().parse().ok()).unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = conn.read_exact(&mut body);
                let (extra, answer) = if n == 0 {
                    (
                        "vendure-auth-token: t\r\n",
                        r#"{"data":{"login":{"__typename":"CurrentUser","id":"1","identifier":"a"}}}"#,
                    )
                } else {
                    ("", variants)
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = conn.write_all(reply.as_bytes());
            }
        });
        url
    }

    #[tokio::test]
    async fn stock_counts_beyond_an_i64_are_a_protocol_error_not_an_overflow() {
        // Found by the fuzz suite: setting 7 available with stockAllocated
        // i64::MAX overflowed `quantity + allocated` (a panic).
        let url = vendure(
            r#"{"data":{"activeChannel":{"defaultLanguageCode":"en"},"productVariants":{"totalItems":1,"items":[
            {"id":"1","sku":"MUG-01","name":"Mug","price":1250,"currencyCode":"EUR","enabled":true,
             "stockOnHand":3,"stockAllocated":9223372036854775807,"stockLevels":[]}]}}}"#,
        );
        let v = Vendure::new(&url, &json!({ "username": "admin" }), "pw").expect("valid settings");
        match v.set_available("MUG-01", "default", 7).await {
            Err(ConnectorError::Protocol(m)) => assert!(m.contains("MUG-01"), "{m}"),
            other => panic!("expected a protocol error, got {other:?}"),
        }
        assert!(matches!(v.available("MUG-01", "default").await, Ok(n) if n < 0), "3 − i64::MAX still fits");
        assert_eq!(counted("MUG-01", i64::MIN.checked_sub(1)).ok(), None, "on hand i64::MIN less 1 allocated does not");
    }
}
