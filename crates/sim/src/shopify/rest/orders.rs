//! `orders.json`, `orders/{id}.json` and `orders/count.json`: the store's
//! orders, filtered and shown as the REST Admin API's Order resource.

use super::*;

/// Every stored order as (id, updated_at, GraphQL node), by id: the one
/// place this module reads the store's orders.
pub(super) fn orders_sorted(shop: &ShopifySim) -> Vec<(u64, DateTime<Utc>, Value)> {
    let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
    let mut all: Vec<(u64, DateTime<Utc>, Value)> =
        orders.iter().map(|o| (o.id, o.updated_at, o.node.clone())).collect();
    all.sort_by_key(|(id, _, _)| *id);
    all
}

/// One stored order and what the filters look at.
pub(super) struct OrderRow {
    pub(super) id: u64,
    pub(super) created: DateTime<Utc>,
    pub(super) updated: DateTime<Utc>,
    pub(super) node: Value,
}

impl OrderRow {
    pub(super) fn cancelled(&self) -> bool {
        !self.node["cancelledAt"].is_null()
    }

    pub(super) fn closed(&self) -> bool {
        !self.node["closedAt"].is_null() || self.node["closed"] == true
    }

    /// `paid`, `refunded`, `partially_refunded`, ...
    pub(super) fn financial_status(&self) -> Option<String> {
        self.node["displayFinancialStatus"].as_str().map(str::to_ascii_lowercase)
    }

    pub(super) fn fulfillment_status(&self) -> Option<&'static str> {
        match self.node["displayFulfillmentStatus"].as_str() {
            Some("FULFILLED") => Some("fulfilled"),
            Some("PARTIALLY_FULFILLED") => Some("partial"),
            _ => None,
        }
    }
}

pub(super) fn order_rows(shop: &ShopifySim) -> Vec<OrderRow> {
    orders_sorted(shop)
        .into_iter()
        .map(|(id, updated, node)| {
            let created = node["createdAt"].as_str().and_then(parse_utc).unwrap_or(updated);
            OrderRow { id, created, updated, node }
        })
        .collect()
}

/// The filters of `orders.json` and `orders/count.json`, checked.
pub(super) struct OrderQuery {
    pub(super) status: &'static str,
    pub(super) ids: Option<Vec<u64>>,
    pub(super) since_id: Option<u64>,
    pub(super) created: Range,
    pub(super) updated: Range,
    pub(super) processed: Range,
    pub(super) financial: Option<&'static str>,
    pub(super) fulfillment: Option<&'static str>,
    /// Newest first by default; by id with `since_id`.
    pub(super) sort: (SortField, bool),
}

impl OrderQuery {
    pub(super) fn parse(filters: &[(String, String)]) -> Result<Self, Response> {
        let mut c = Checks::new(filters);
        let since_id = c.number("since_id");
        let default_sort = if since_id.is_some() { (SortField::Id, false) } else { (SortField::CreatedAt, true) };
        let sort = match value(filters, "order") {
            None => default_sort,
            Some(text) => parse_sort(text).unwrap_or_else(|| {
                c.fail(
                    "order",
                    "must be a field (id, created_at, updated_at, processed_at) and asc or desc, e.g. updated_at asc",
                );
                default_sort
            }),
        };
        let query = Self {
            status: c.one_of("status", STATUSES).unwrap_or("open"),
            ids: c.numbers("ids"),
            since_id,
            created: c.range("created_at"),
            updated: c.range("updated_at"),
            processed: c.range("processed_at"),
            financial: c.one_of("financial_status", FINANCIAL),
            fulfillment: c.one_of("fulfillment_status", FULFILLMENT),
            sort,
        };
        c.done()?;
        Ok(query)
    }

    pub(super) fn admits(&self, o: &OrderRow) -> bool {
        let status = match self.status {
            "open" => !o.cancelled() && !o.closed(),
            "closed" => o.closed(),
            "cancelled" => o.cancelled(),
            _ => true,
        };
        let financial = o.financial_status();
        let financial = match self.financial {
            None | Some("any") => true,
            Some("unpaid") => matches!(financial.as_deref(), Some("authorized" | "pending" | "partially_paid")),
            Some(wanted) => financial.as_deref() == Some(wanted),
        };
        let fulfillment = match (self.fulfillment, o.fulfillment_status()) {
            (None | Some("any"), _) => true,
            (Some("shipped"), s) => s == Some("fulfilled"),
            (Some("partial"), s) => s == Some("partial"),
            (Some("unshipped"), s) => s.is_none(),
            (Some(_), s) => s != Some("fulfilled"),
        };
        status
            && financial
            && fulfillment
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&o.id))
            && self.since_id.is_none_or(|s| o.id > s)
            && within(self.created, o.created)
            && within(self.updated, o.updated)
            && within(self.processed, o.created)
    }

    pub(super) fn key(&self, o: &OrderRow) -> Key {
        let value = match self.sort.0 {
            SortField::Id => 0,
            SortField::CreatedAt | SortField::ProcessedAt => o.created.timestamp_micros(),
            SortField::UpdatedAt => o.updated.timestamp_micros(),
        };
        (value, o.id)
    }

    /// The admitted rows, keyed, in listing order.
    pub(super) fn listed(&self, rows: Vec<OrderRow>) -> Vec<(Key, OrderRow)> {
        let mut listed: Vec<(Key, OrderRow)> =
            rows.into_iter().filter(|o| self.admits(o)).map(|o| (self.key(&o), o)).collect();
        listed.sort_by_key(|(k, _)| *k);
        if self.sort.1 {
            listed.reverse();
        }
        listed
    }
}

pub(super) fn list_orders(shop: &ShopifySim, params: &[(String, String)], here: &str) -> Result<Response, Response> {
    let paging = Paging::parse(params, "orders")?;
    let query = OrderQuery::parse(&paging.filters)?;
    let rows = query.listed(order_rows(shop));
    let catalog = catalog_ids(shop);
    Ok(paging.answer(here, "orders", &rows, query.sort.1, |o| rest_order(o, &catalog)))
}

pub(super) fn count_orders(shop: &ShopifySim, params: &[(String, String)]) -> Result<Response, Response> {
    let filters: Params = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info" | "order"))
        .cloned()
        .collect();
    let query = OrderQuery::parse(&filters)?;
    let count = order_rows(shop).iter().filter(|o| query.admits(o)).count();
    Ok(ok(&json!({ "count": count })))
}

pub(super) fn one_order(shop: &ShopifySim, id: u64, params: &[(String, String)]) -> Result<Response, Response> {
    let row = order_rows(shop).into_iter().find(|o| o.id == id).ok_or_else(not_found)?;
    let order = pick_fields(rest_order(&row, &catalog_ids(shop)), value(params, "fields"));
    Ok(ok(&json!({ "order": order })))
}

/// (variant id, product id) by SKU, for the line items.
pub(super) fn catalog_ids(shop: &ShopifySim) -> HashMap<String, (u64, u64)> {
    let inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    inventory
        .variants
        .iter()
        .filter_map(|v| Some((v.sku.clone(), (gid_number(&v.variant_gid())?, gid_number(&v.product_gid())?))))
        .collect()
}

pub(super) fn gid_number(gid: &str) -> Option<u64> {
    gid.rsplit('/').next()?.parse().ok()
}

pub(super) fn gid_of(v: &Value) -> Option<u64> {
    v.as_str().and_then(gid_number)
}

pub(super) fn amount(set: &Value) -> Decimal {
    set["shopMoney"]["amount"].as_str().and_then(|a| a.parse().ok()).unwrap_or(Decimal::ZERO)
}

/// Money as the REST API writes it: a string with two decimals.
pub(super) fn money(d: Decimal) -> Value {
    json!(format!("{:.2}", d.round_dp(2)))
}

pub(super) fn price_set(d: Decimal) -> Value {
    let m = json!({ "amount": money(d), "currency_code": "EUR" });
    json!({ "shop_money": m, "presentment_money": m })
}

pub(super) fn country_name(code: &str) -> &str {
    match code {
        "DE" => "Germany",
        "AT" => "Austria",
        "CH" => "Switzerland",
        other => other,
    }
}

/// An order as the REST Admin API shows it, made from its GraphQL node.
pub(super) fn rest_order(o: &OrderRow, catalog: &HashMap<String, (u64, u64)>) -> Value {
    let n = &o.node;
    let name = n["name"].as_str().unwrap_or_default();
    let order_number: u64 = name.trim_start_matches('#').parse().unwrap_or(0);
    let lines = line_items(o, catalog);
    let line_total: Decimal = lines
        .iter()
        .filter_map(|l| Some(l["price"].as_str()?.parse::<Decimal>().ok()? * Decimal::from(l["quantity"].as_i64()?)))
        .sum();
    let edges = |v: &Value| v["edges"].as_array().cloned().unwrap_or_default();
    let shipping: Vec<Value> = edges(&n["shippingLines"])
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let price = amount(&e["node"]["originalPriceSet"]);
            json!({ "id": o.id * 10 + i as u64 + 1, "title": e["node"]["title"], "code": e["node"]["title"],
                "source": "shopify", "price": money(price), "price_set": price_set(price),
                "discounted_price": money(price), "discounted_price_set": price_set(price), "tax_lines": [] })
        })
        .collect();
    let shipping_total: Decimal =
        edges(&n["shippingLines"]).iter().map(|e| amount(&e["node"]["originalPriceSet"])).sum();
    let taxes = n["taxLines"].as_array().cloned().unwrap_or_default();
    let tax: Decimal = taxes.iter().map(|t| amount(&t["priceSet"])).sum();
    let tax_lines: Vec<Value> = taxes
        .iter()
        .map(|t| {
            let price = amount(&t["priceSet"]);
            json!({ "title": t["title"], "rate": t["rate"], "price": money(price), "price_set": price_set(price),
                "channel_liable": false })
        })
        .collect();
    let (total, discounts) = (amount(&n["totalPriceSet"]), amount(&n["totalDiscountsSet"]));
    let subtotal = line_total - discounts;
    let order = json!({
        "id": o.id, "admin_graphql_api_id": n["id"], "name": name,
        "order_number": order_number, "number": order_number.saturating_sub(1000),
        "email": n["email"], "contact_email": n["email"], "phone": n["phone"],
        "created_at": local(o.created), "updated_at": local(o.updated), "processed_at": local(o.created),
        "cancelled_at": local_at(&n["cancelledAt"]), "cancel_reason": o.cancelled().then_some("customer"),
        "closed_at": local_at(&n["closedAt"]),
        "confirmed": true, "test": false, "source_name": "web", "tags": "", "note": null,
        "currency": "EUR", "presentment_currency": "EUR", "taxes_included": n["taxesIncluded"],
        "financial_status": o.financial_status(), "fulfillment_status": o.fulfillment_status(),
    });
    let sums = json!({
        "total_price": money(total), "total_price_set": price_set(total),
        "subtotal_price": money(subtotal), "subtotal_price_set": price_set(subtotal),
        "total_line_items_price": money(line_total), "total_line_items_price_set": price_set(line_total),
        "total_tax": money(tax), "total_tax_set": price_set(tax),
        "total_discounts": money(discounts), "total_discounts_set": price_set(discounts),
        "total_shipping_price_set": price_set(shipping_total),
        "shipping_lines": shipping, "tax_lines": tax_lines,
        "customer": customer(&n["customer"]),
        "shipping_address": address(&n["shippingAddress"]), "billing_address": address(&n["shippingAddress"]),
        "refunds": refunds(o, &lines), "fulfillments": fulfillments(o, &lines),
        "line_items": lines,
    });
    merged(order, sums)
}

pub(super) fn line_item_id(order: u64, index: usize) -> u64 {
    order * 1000 + index as u64 + 1
}

pub(super) fn line_items(o: &OrderRow, catalog: &HashMap<String, (u64, u64)>) -> Vec<Value> {
    let fulfilled = o.fulfillment_status() == Some("fulfilled");
    let edges = o.node["lineItems"]["edges"].as_array().cloned().unwrap_or_default();
    edges
        .iter()
        .enumerate()
        .map(|(i, edge)| {
            let l = &edge["node"];
            let id = line_item_id(o.id, i);
            let quantity = l["quantity"].as_i64().unwrap_or(0);
            let price = amount(&l["originalUnitPriceSet"]);
            let ids = l["sku"].as_str().and_then(|s| catalog.get(s));
            json!({
                "id": id, "admin_graphql_api_id": format!("gid://shopify/LineItem/{id}"),
                "variant_id": ids.map(|(v, _)| v), "product_id": ids.map(|(_, p)| p), "product_exists": ids.is_some(),
                "sku": l["sku"], "title": l["title"], "name": l["title"], "variant_title": null, "vendor": null,
                "quantity": quantity, "current_quantity": quantity,
                "fulfillable_quantity": if fulfilled || o.cancelled() { 0 } else { quantity },
                "fulfillment_status": fulfilled.then_some("fulfilled"), "fulfillment_service": "manual",
                "price": money(price), "price_set": price_set(price),
                "total_discount": money(Decimal::ZERO), "total_discount_set": price_set(Decimal::ZERO),
                "taxable": true, "requires_shipping": true, "gift_card": false,
                "tax_lines": [], "discount_allocations": [],
            })
        })
        .collect()
}

pub(super) fn customer(c: &Value) -> Value {
    if !c.is_object() {
        return Value::Null;
    }
    json!({
        "id": gid_of(&c["id"]), "admin_graphql_api_id": c["id"], "email": c["email"],
        "first_name": c["firstName"], "last_name": c["lastName"], "phone": c["phone"],
        "currency": "EUR", "state": "disabled", "verified_email": true, "tax_exempt": false, "tags": "",
    })
}

pub(super) fn address(a: &Value) -> Value {
    if !a.is_object() {
        return Value::Null;
    }
    let name = a["name"].as_str().unwrap_or_default();
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    let code = a["countryCodeV2"].as_str();
    json!({
        "first_name": first, "last_name": last, "name": name, "company": null,
        "address1": a["address1"], "address2": a["address2"], "city": a["city"], "zip": a["zip"],
        "province": null, "province_code": null, "country": code.map(country_name), "country_code": code,
        "phone": a["phone"], "latitude": null, "longitude": null,
    })
}

pub(super) fn refunds(o: &OrderRow, lines: &[Value]) -> Vec<Value> {
    let all = o.node["refunds"].as_array().cloned().unwrap_or_default();
    all.iter()
        .map(|r| {
            let id = gid_of(&r["id"]).unwrap_or(0);
            let at = local_at(&r["createdAt"]);
            let items = r["refundLineItems"]["nodes"].as_array().cloned().unwrap_or_default();
            let items: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let line = lines.iter().find(|l| l["sku"] == item["lineItem"]["sku"]).cloned().unwrap_or_default();
                    let subtotal = amount(&item["subtotalSet"]);
                    json!({ "id": id * 100 + i as u64 + 1, "quantity": item["quantity"], "line_item_id": line["id"],
                        "line_item": line, "restock_type": "no_restock", "location_id": null,
                        "subtotal": money(subtotal), "subtotal_set": price_set(subtotal),
                        "total_tax": money(Decimal::ZERO), "total_tax_set": price_set(Decimal::ZERO) })
                })
                .collect();
            let total = amount(&r["totalRefundedSet"]);
            let transaction = json!({ "id": id * 10 + 1, "order_id": o.id, "kind": "refund", "status": "success",
                "gateway": "manual", "amount": money(total), "currency": "EUR", "created_at": at, "processed_at": at });
            json!({ "id": id, "admin_graphql_api_id": r["id"], "order_id": o.id, "created_at": at, "processed_at": at,
                "note": r["note"], "restock": false, "user_id": null, "refund_line_items": items,
                "transactions": [transaction], "order_adjustments": [] })
        })
        .collect()
}

pub(super) fn fulfillments(o: &OrderRow, lines: &[Value]) -> Vec<Value> {
    let all = o.node["fulfillments"].as_array().cloned().unwrap_or_default();
    let name = o.node["name"].as_str().unwrap_or_default();
    all.iter()
        .enumerate()
        .map(|(i, f)| {
            let tracking = f["trackingInfo"].as_array().cloned().unwrap_or_default();
            let each = |key: &str| tracking.iter().map(|t| t[key].clone()).filter(|v| !v.is_null()).collect::<Vec<_>>();
            let first = tracking.first().cloned().unwrap_or_default();
            json!({
                "id": gid_of(&f["id"]), "admin_graphql_api_id": f["id"], "order_id": o.id,
                "name": format!("{name}.{}", i + 1), "status": f["status"].as_str().map(str::to_ascii_lowercase),
                "created_at": local_at(&f["createdAt"]), "updated_at": local_at(&f["createdAt"]),
                "service": "manual", "location_id": gid_number(LOCATION_ID), "shipment_status": null,
                "tracking_company": first["company"], "tracking_number": first["number"], "tracking_url": first["url"],
                "tracking_numbers": each("number"), "tracking_urls": each("url"), "line_items": lines,
            })
        })
        .collect()
}
