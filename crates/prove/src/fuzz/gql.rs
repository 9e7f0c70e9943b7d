//! Answers to GraphQL queries, shaped by the query itself: the selection
//! set is parsed and every field gets a value its name calls for (Shopify
//! or Vendure style), so a realistic `data` comes back for whatever the
//! connector asks.

use super::shapes::{pick, some, time_rfc3339, Vocab};
use super::Rng;
use serde_json::{json, Map, Value};

/// Which API's conventions the values follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Shopify,
    Vendure,
}

#[derive(Debug, Clone)]
enum Sel {
    Field { name: String, sub: Option<Vec<Sel>> },
    Fragment { on: String, sub: Vec<Sel> },
}

/// The selection set of the (first) operation in `query`.
fn parse(query: &str) -> Vec<Sel> {
    let tokens = tokens(query);
    // Skip the operation's name and variable definitions: the selection
    // set starts at the first `{` outside parentheses.
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            "{" if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    selection(&tokens, &mut i)
}

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        if c == '.' && chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
            out.push("...".into());
            i += 3;
            continue;
        }
        if c == '"' {
            // A string argument: skipped whole.
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push("\"\"".into());
            continue;
        }
        if !c.is_whitespace() && c != ',' {
            out.push(c.to_string());
        }
        i += 1;
    }
    out
}

/// Parses `{ ... }` at `tokens[*i]`.
fn selection(tokens: &[String], i: &mut usize) -> Vec<Sel> {
    let mut out = Vec::new();
    if tokens.get(*i).map(String::as_str) != Some("{") {
        return out;
    }
    *i += 1;
    while let Some(t) = tokens.get(*i) {
        match t.as_str() {
            "}" => {
                *i += 1;
                return out;
            }
            "..." => {
                // `... on Type { ... }`
                *i += 1;
                let mut on = String::new();
                if tokens.get(*i).map(String::as_str) == Some("on") {
                    on = tokens.get(*i + 1).cloned().unwrap_or_default();
                    *i += 2;
                }
                out.push(Sel::Fragment { on, sub: selection(tokens, i) });
            }
            _ => {
                let mut name = t.clone();
                *i += 1;
                if tokens.get(*i).map(String::as_str) == Some(":") {
                    // An alias: the answer uses the alias.
                    *i += 2;
                    name = t.clone();
                }
                if tokens.get(*i).map(String::as_str) == Some("(") {
                    let mut depth = 0;
                    while let Some(t) = tokens.get(*i) {
                        match t.as_str() {
                            "(" => depth += 1,
                            ")" => depth -= 1,
                            _ => {}
                        }
                        *i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
                let sub = (tokens.get(*i).map(String::as_str) == Some("{")).then(|| selection(tokens, i));
                out.push(Sel::Field { name, sub });
            }
        }
    }
    out
}

/// A realistic `data` for `query`.
pub fn data(query: &str, flavor: Flavor, vocab: &Vocab, rng: &Rng) -> Value {
    let sels = parse(query);
    object(&sels, "Query", flavor, vocab, rng)
}

fn object(sels: &[Sel], parent: &str, flavor: Flavor, vocab: &Vocab, rng: &Rng) -> Value {
    let mut out = Map::new();
    let fragments: Vec<(&String, &Vec<Sel>)> = sels
        .iter()
        .filter_map(|s| match s {
            Sel::Fragment { on, sub } => Some((on, sub)),
            Sel::Field { .. } => None,
        })
        .collect();
    // A union answers as one of its members: mostly the success type.
    let chosen = if fragments.is_empty() {
        None
    } else {
        let success: Vec<_> = fragments.iter().filter(|(on, _)| on.as_str() != "ErrorResult").collect();
        if !success.is_empty() && rng.usize(0..10) > 0 {
            Some(*success[rng.usize(..success.len())])
        } else {
            Some(fragments[rng.usize(..fragments.len())])
        }
    };
    let typename = chosen.map_or_else(|| parent.to_owned(), |(on, _)| on.clone());
    let fields = sels.iter().chain(chosen.into_iter().flat_map(|(_, sub)| sub.iter()));
    for s in fields {
        let Sel::Field { name, sub } = s else { continue };
        let v = match (name.as_str(), sub) {
            ("__typename", _) => {
                let t = if typename == "ErrorResult" { "InvalidCredentialsError".to_owned() } else { typename.clone() };
                Value::String(t)
            }
            (_, Some(sub)) => composite(name, sub, flavor, vocab, rng),
            (_, None) => scalar(name, parent, &typename, flavor, vocab, rng),
        };
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

/// Fields whose value is a list of objects (when they are not a connection).
const LISTS: &[&str] = &[
    "edges",
    "nodes",
    "items",
    "taxLines",
    "refunds",
    "fulfillments",
    "trackingInfo",
    "lines",
    "shippingLines",
    "discounts",
    "taxSummary",
    "payments",
    "addresses",
    "stockLevels",
    "updateProductVariants",
    "userErrors",
    "changes",
    "productVariants",
];

/// Roots that may be absent (`null`): looked up by id.
const OPTIONAL: &[&str] = &["customer", "order", "shippingAddress", "product", "selectedRate", "defaultAddress"];

fn composite(name: &str, sub: &[Sel], flavor: Flavor, vocab: &Vocab, rng: &Rng) -> Value {
    let has = |f: &str| sub.iter().any(|s| matches!(s, Sel::Field { name, .. } if name == f));
    let connection = has("edges") || has("nodes") || (has("items") && has("totalItems"));
    let type_name = type_of(name);
    if !connection && LISTS.contains(&name) {
        let n = match name {
            // Mostly none: a mutation's errors, mostly success.
            "userErrors" => usize::from(rng.usize(0..6) == 0),
            _ => some(rng),
        };
        return Value::Array((0..n).map(|_| object(sub, &type_name, flavor, vocab, rng)).collect());
    }
    if OPTIONAL.contains(&name) && rng.usize(0..8) == 0 {
        return Value::Null;
    }
    let mut v = object(sub, &type_name, flavor, vocab, rng);
    if connection && flavor == Flavor::Vendure {
        // totalItems at least the items sent, sometimes more (another page).
        let n = v.get("items").and_then(Value::as_array).map_or(0, Vec::len) as u64;
        if let Some(t) = v.get_mut("totalItems") {
            *t = json!(n + if rng.bool() { 0 } else { rng.u64(1..300) });
        }
    }
    v
}

fn type_of(field: &str) -> String {
    let mut s = field.trim_end_matches('s').to_owned();
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

fn scalar(name: &str, parent: &str, typename: &str, flavor: Flavor, vocab: &Vocab, rng: &Rng) -> Value {
    let money_minor = || json!(rng.i64(0..20_000));
    let amount = || Value::String(format!("{}.{:02}", rng.u32(0..200), rng.u32(0..100)));
    match (flavor, name) {
        (Flavor::Shopify, "id") => Value::String(format!("gid://shopify/{parent}/{}", rng.u32(1..10_000))),
        (Flavor::Vendure, "id" | "orderLineId" | "stockLocationId") => Value::String(rng.u32(1..50).to_string()),
        (_, "cursor" | "endCursor") => Value::String(format!("c{}", rng.u32(..100_000))),
        (_, "hasNextPage") => Value::Bool(rng.usize(0..3) == 0),
        (_, "totalItems") => json!(rng.u64(0..5)),
        (Flavor::Shopify, "name") => Value::String(format!("#{}", rng.u32(1000..9999))),
        (_, "name" | "title") => Value::String(pick(rng, &["Blue Mug", "Pen", "Tea Towel", "Standard", "VAT"]).into()),
        (_, n) if n.ends_with("At") => {
            if n == "cancelledAt" && rng.usize(0..4) > 0 {
                Value::Null
            } else {
                Value::String(time_rfc3339(rng))
            }
        }
        (_, "closed" | "taxesIncluded" | "hasOnlyDefaultVariant" | "enabled" | "pricesIncludeTax") => {
            Value::Bool(rng.bool())
        }
        (_, "defaultShippingAddress") => Value::Bool(rng.bool()),
        (_, "email" | "emailAddress" | "identifier") => Value::String(vocab.email(rng)),
        (_, "phone" | "phoneNumber") => {
            if rng.bool() {
                Value::Null
            } else {
                Value::String("+49 30 1234567".into())
            }
        }
        (Flavor::Shopify, "amount" | "price") => amount(),
        (Flavor::Vendure, "total" | "totalWithTax" | "unitPrice" | "unitPriceWithTax" | "price" | "priceWithTax")
        | (Flavor::Vendure, "amount" | "amountWithTax" | "taxTotal") => money_minor(),
        (_, "currencyCode") => Value::String(pick(rng, &["EUR", "EUR", "EUR", "USD"]).into()),
        (_, "rate") => json!(pick(rng, &[0.19, 0.07, 0.0])),
        (_, "taxRate") => json!(pick(rng, &[19.0, 7.0, 0.0])),
        (_, "firstName") => Value::String("Ada".into()),
        (_, "lastName") => Value::String("Lovelace".into()),
        (_, "fullName") => Value::String("Ada Lovelace".into()),
        (_, "address1" | "streetLine1") => Value::String("1 Main St".into()),
        (_, "address2" | "streetLine2" | "note" | "reason") => Value::Null,
        (_, "city") => Value::String("Berlin".into()),
        (_, "zip" | "postalCode") => Value::String("10115".into()),
        (_, "countryCodeV2" | "countryCode") => Value::String("DE".into()),
        (Flavor::Vendure, "code") if parent == "Country" => Value::String("DE".into()),
        (Flavor::Vendure, "code") => Value::String(format!("T{}", rng.u32(1000..9999))),
        (_, "sku") => Value::String(vocab.sku(rng)),
        (_, "quantity" | "delta" | "quantityAfterChange") => json!(rng.i64(0..5)),
        (_, "stockOnHand") => json!(rng.i64(0..100)),
        (_, "stockAllocated") => json!(rng.i64(0..10)),
        (Flavor::Shopify, "status") if parent == "Product" => {
            Value::String(pick(rng, &["ACTIVE", "DRAFT", "ARCHIVED"]).into())
        }
        (Flavor::Shopify, "status") => Value::String(pick(rng, &["OPEN", "IN_PROGRESS", "CLOSED"]).into()),
        (Flavor::Vendure, "state") if typename == "Fulfillment" || parent == "Fulfillment" => {
            Value::String(pick(rng, &["Pending", "Shipped", "Cancelled"]).into())
        }
        (Flavor::Vendure, "state") if parent == "Refund" => Value::String(pick(rng, &["Settled", "Pending"]).into()),
        (_, "state") => Value::String(pick(rng, &["PaymentSettled", "Delivered", "Cancelled"]).into()),
        (_, "number" | "trackingCode") => Value::String(vocab.tracking(rng)),
        (_, "company") => Value::String("DHL".into()),
        (_, "url") => Value::String("https://track.example.com/1".into()),
        (_, "message") => Value::String("Something is not right".into()),
        (_, "errorCode") => Value::String("INVALID_CREDENTIALS_ERROR".into()),
        (_, "field") => json!(["input", "quantities"]),
        (_, "defaultLanguageCode") => Value::String("en".into()),
        (_, "description") => Value::String("VAT 19%".into()),
        (_, "requestedQueryCost" | "actualQueryCost") => json!(rng.u32(1..400)),
        _ => Value::String(format!("{name}-{}", rng.u32(..100))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_follows_the_selection() {
        let q = r#"query Orders($first: Int!, $after: String) {
          orders(first: $first, after: $after, query: "x:y") {
            edges { cursor node { id totalPriceSet { shopMoney { amount currencyCode } }
              lineItems(first: 50) { edges { node { sku quantity } } } } }
            pageInfo { hasNextPage endCursor }
          }
        }"#;
        let rng = Rng::with_seed(1);
        let v = data(q, Flavor::Shopify, &Vocab, &rng);
        assert!(v["orders"]["edges"].is_array(), "edges is a list: {v}");
        assert!(v["orders"]["pageInfo"]["hasNextPage"].is_boolean(), "{v}");
    }

    #[test]
    fn a_union_answers_as_one_member() {
        let q = "mutation { login(username: $u) { __typename ... on CurrentUser { id identifier } ... on ErrorResult { errorCode message } } }";
        let rng = Rng::with_seed(3);
        for _ in 0..20 {
            let v = data(q, Flavor::Vendure, &Vocab, &rng);
            let login = &v["login"];
            assert!(login.get("id").is_some() != login.get("errorCode").is_some(), "one member only: {v}");
        }
    }
}
