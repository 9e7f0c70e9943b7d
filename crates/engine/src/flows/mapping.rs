//! Mappings at work: a store SKU becomes the ERP's item code on the way
//! into the ERP, the ERP's item code becomes the store SKU on the way back,
//! and an ERP warehouse becomes a store location. What has no mapping stays
//! as it is (most shops use the same SKU everywhere) and, when a system
//! refuses it, is listed on the Mappings page.

use std::collections::HashMap;

/// Store SKU → ERP item code.
pub(crate) const SKU: &str = "sku";
/// ERP warehouse → store location.
pub(crate) const WAREHOUSE: &str = "warehouse";
/// The kinds people can map, with what each side is called.
pub(crate) const KINDS: &[(&str, &str, &str)] =
    &[(SKU, "store SKU", "ERP item code"), (WAREHOUSE, "ERP warehouse", "store location")];

/// Rewrites every `"sku"` in a queued order or refund to the ERP's item
/// code. Returns the SKUs the payload names after mapping, each with the
/// store's own SKU it came from.
pub(crate) fn skus_to_erp(payload: &mut serde_json::Value, map: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    walk(payload, &mut |sku: &mut String| {
        let store = sku.clone();
        if let Some(code) = map.get(&store) {
            sku.clone_from(code);
        }
        if !seen.iter().any(|(s, _): &(String, String)| *s == store) {
            seen.push((store, sku.clone()));
        }
    });
    seen
}

fn walk(v: &mut serde_json::Value, f: &mut impl FnMut(&mut String)) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                match v {
                    serde_json::Value::String(s) if k == "sku" => f(s),
                    other => walk(other, f),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk(v, f)),
        _ => {}
    }
}

/// ERP item code → store SKU (the SKU mappings read backwards).
pub(crate) fn item_codes_to_store(map: &HashMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(sku, code)| (code.clone(), sku.clone())).collect()
}

/// The store SKUs a refusal names: the remote's message mentions the item
/// code it could not find.
pub(crate) fn refused_skus<'a>(message: &str, skus: &'a [(String, String)]) -> Vec<&'a str> {
    if !says_unknown(message) {
        return Vec::new(); // refused for another reason (disabled, no price, no stock): not a mapping's job
    }
    skus.iter().filter(|(_, code)| names(message, code)).map(|(s, _)| s.as_str()).collect()
}

/// Whether a refusal says an item was not found, in the words ERPNext,
/// Odoo and Tryton use.
fn says_unknown(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["could not find", "not found", "no active product", "does not exist", "unknown item", "no such item"]
        .iter()
        .any(|w| m.contains(w))
}

/// Whether `message` names `code` as a whole word (`MUG-1` is not in `MUG-10`).
fn names(message: &str, code: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    !code.is_empty()
        && message.match_indices(code).any(|(at, _)| {
            let before = message[..at].chars().next_back();
            let after = message[at + code.len()..].chars().next();
            !before.is_some_and(part) && !after.is_some_and(|c| part(c) && c != '.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skus_are_mapped_wherever_the_payload_holds_them() {
        let map: HashMap<String, String> = [("GIFTCARD-50".to_owned(), "GIFT-CARD".to_owned())].into();
        let mut refund = json!({
            "order": { "lines": [ { "sku": "GIFTCARD-50", "title": "sku" }, { "sku": "MUG" }, { "sku": null } ] },
            "refund": { "items": [ { "sku": "GIFTCARD-50" } ] }
        });
        let seen = skus_to_erp(&mut refund, &map);
        assert_eq!(refund["order"]["lines"][0]["sku"], "GIFT-CARD");
        assert_eq!(refund["order"]["lines"][0]["title"], "sku", "only the sku field changes");
        assert_eq!(refund["refund"]["items"][0]["sku"], "GIFT-CARD");
        assert_eq!(refund["order"]["lines"][1]["sku"], "MUG", "unmapped SKUs stay");
        assert_eq!(
            seen,
            vec![("GIFTCARD-50".into(), "GIFT-CARD".into()), ("MUG".into(), "MUG".into())],
            "each SKU once"
        );
        assert_eq!(refused_skus("Could not find Item Code: MUG", &seen), vec!["MUG"]);
        assert!(refused_skus("Customer is disabled", &seen).is_empty());
        assert!(refused_skus("Could not find Item Code: MUG-2", &seen).is_empty(), "MUG is not MUG-2");
        assert_eq!(refused_skus("no such item MUG.", &seen), vec!["MUG"], "a full stop ends the word");
        assert!(refused_skus("Item MUG is disabled", &seen).is_empty(), "refused for another reason");
        assert_eq!(item_codes_to_store(&map).get("GIFT-CARD").map(String::as_str), Some("GIFTCARD-50"));
    }
}
