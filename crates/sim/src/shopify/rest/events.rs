//! `events.json`: the events Shopify keeps for orders (confirmed,
//! fulfilled, refunded, cancelled), derived from the orders' nodes.

use super::*;

/// An event derived from an order's node.
pub(super) struct EventRow {
    pub(super) id: u64,
    pub(super) created: DateTime<Utc>,
    pub(super) subject_id: u64,
    pub(super) verb: &'static str,
    pub(super) arguments: Vec<Value>,
    pub(super) message: String,
    pub(super) description: String,
}

/// Event ids grow with time, as Shopify's do: seconds, then the order's
/// place, then the kind (1 confirmed, 2 fulfilled, 3–8 refunds, 9 cancelled).
pub(super) fn event_id(at: DateTime<Utc>, order: u64, kind: u64) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0) * 100_000 + (order.saturating_sub(FIRST_ID) % 10_000) * 10 + kind
}

/// An order's events: `confirmed` when placed, then `fulfillment_success`,
/// `refund_success` and `cancelled` as they happened.
pub(super) fn order_events(o: &OrderRow) -> Vec<EventRow> {
    let n = &o.node;
    let name = n["name"].as_str().unwrap_or_default().to_owned();
    let link = format!("<a href=\"/admin/orders/{}\">{name}</a>", o.id);
    let person = [&n["customer"]["firstName"], &n["customer"]["lastName"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let event = |at: DateTime<Utc>, kind: u64, verb, arguments, message: String, description: String| EventRow {
        id: event_id(at, o.id, kind),
        created: at,
        subject_id: o.id,
        verb,
        arguments,
        message,
        description,
    };
    let mut events = vec![event(
        o.created,
        1,
        "confirmed",
        vec![json!(name), json!(person)],
        format!("Received new order {link} by {person}."),
        format!("Received new order {name} by {person}."),
    )];
    for f in n["fulfillments"].as_array().into_iter().flatten() {
        if let Some(at) = f["createdAt"].as_str().and_then(parse_utc) {
            let items: i64 = n["lineItems"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["node"]["quantity"].as_i64())
                .sum();
            let text = format!("We fulfilled {items} items of {name}.");
            events.push(event(at, 2, "fulfillment_success", vec![json!(items)], text.clone(), text));
        }
    }
    for (i, r) in n["refunds"].as_array().into_iter().flatten().enumerate() {
        if let Some(at) = r["createdAt"].as_str().and_then(parse_utc) {
            let total = money(amount(&r["totalRefundedSet"]));
            let total = total.as_str().unwrap_or_default();
            let text = |order: &str| format!("We successfully refunded {total} EUR on {order}.");
            events.push(event(at, 3 + i.min(5) as u64, "refund_success", vec![json!(total)], text(&link), text(&name)));
        }
    }
    if let Some(at) = n["cancelledAt"].as_str().and_then(parse_utc) {
        let text = |order: &str| format!("Order {order} was cancelled.");
        events.push(event(at, 9, "cancelled", vec![json!(name)], text(&link), text(&name)));
    }
    events
}

pub(super) fn rest_event(e: &EventRow) -> Value {
    json!({
        "id": e.id, "subject_id": e.subject_id, "created_at": local(e.created), "subject_type": "Order",
        "verb": e.verb, "arguments": e.arguments, "body": null, "message": e.message, "author": "Shopify",
        "description": e.description, "path": format!("/admin/orders/{}", e.subject_id),
    })
}

pub(super) fn list_events(shop: &ShopifySim, params: &[(String, String)], here: &str) -> Result<Response, Response> {
    let paging = Paging::parse(params, "events")?;
    let mut c = Checks::new(&paging.filters);
    let since_id = c.number("since_id");
    let created = c.range("created_at");
    c.done()?;
    let subjects = value(&paging.filters, "filter");
    let verb = value(&paging.filters, "verb");
    let wanted = |e: &EventRow| {
        subjects
            .is_none_or(|s| s.split(',').any(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "order" | "orders")))
            && verb.is_none_or(|v| e.verb == v)
            && since_id.is_none_or(|s| e.id > s)
            && within(created, e.created)
    };
    // Newest first; by id with `since_id`.
    let by_id = since_id.is_some();
    let mut rows: Vec<(Key, EventRow)> = order_rows(shop)
        .iter()
        .flat_map(order_events)
        .filter(|e| wanted(e))
        .map(|e| (if by_id { (0, e.id) } else { (e.created.timestamp_micros(), e.id) }, e))
        .collect();
    rows.sort_by_key(|(k, _)| *k);
    if !by_id {
        rows.reverse();
    }
    Ok(paging.answer(here, "events", &rows, !by_id, rest_event))
}
