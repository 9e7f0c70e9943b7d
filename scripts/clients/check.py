"""Public clients of the APIs Ferry's emulators follow, pointed at `ferry sim`
over HTTPS, unchanged: Shopify's own Python library (ShopifyAPI: REST and
GraphQL) and WooCommerce's (woocommerce). Exits 1 with what went wrong.

    python check.py BASE_PORT ORDERS SHOPIFY_TOKEN WOO_KEY:WOO_SECRET
"""
import sys

import shopify
from woocommerce import API

port, orders, token, woo_key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
failures = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + str(detail) if detail else ''}")
    if not ok:
        failures.append(what)


# --- Shopify: the library builds https://{shop}.{myshopify_domain}:{port}/admin/api/{version}/...
# "127" + "." + "0.0.1" is 127.0.0.1; the version is declared, as the library
# would otherwise ask shopify.com which versions exist.
VERSION = "2024-10"
shopify.ApiVersion.define_version(shopify.Release(VERSION))
shopify.Session.myshopify_domain = "0.0.1"
shopify.Session.port = port
session = shopify.Session("127.0.0.1", VERSION, token)
shopify.ShopifyResource.activate_session(session)

shop = shopify.Shop.current()
check("Shopify REST shop.json", shop.currency == "EUR", shop.currency)

scopes = [s.handle for s in shopify.AccessScope.find()]
check("Shopify access_scopes.json", "read_orders" in scopes, scopes)

seen, pages = [], 0
page = shopify.Order.find(limit=250, status="any")
while True:
    pages += 1
    seen.extend(o.id for o in page)
    if not page.has_next_page():
        break
    page = page.next_page()
check("Shopify REST orders.json, every page by its Link header", len(seen) == orders and len(set(seen)) == orders,
      f"{len(seen)} orders ({len(set(seen))} distinct) in {pages} pages")

count = shopify.Order.count(status="any")
check("Shopify REST orders/count.json", count == orders, count)

one = shopify.Order.find(seen[0])
check("Shopify REST orders/{id}.json", one.id == seen[0] and len(one.line_items) > 0, one.name)

import json
answer = json.loads(shopify.GraphQL().execute("{ orders(first: 5) { edges { node { id name } } } }"))
edges = answer.get("data", {}).get("orders", {}).get("edges", [])
check("Shopify GraphQL orders(first: 5)", len(edges) == 5, answer if len(edges) != 5 else answer.get("extensions", {}).get("cost", {}))

# --- WooCommerce: the library signs with Basic auth over HTTPS.
ck, cs = woo_key.split(":", 1)
wc = API(url=f"https://127.0.0.1:{port}/woocommerce", consumer_key=ck, consumer_secret=cs, version="wc/v3", timeout=20)
first = wc.get("orders", params={"per_page": 100})
total = int(first.headers.get("X-WP-Total", "0"))
pages_total = int(first.headers.get("X-WP-TotalPages", "0"))
woo_seen = [o["id"] for o in first.json()]
for p in range(2, pages_total + 1):
    woo_seen.extend(o["id"] for o in wc.get("orders", params={"per_page": 100, "page": p}).json())
check("WooCommerce orders, every page by X-WP-TotalPages", len(woo_seen) == total == orders and len(set(woo_seen)) == orders,
      f"{len(woo_seen)} of {total}")
products = wc.get("products", params={"per_page": 100}).json()
check("WooCommerce products", len(products) > 0 and "sku" in products[0], len(products))

if failures:
    print(f"{len(failures)} checks failed: {', '.join(failures)}")
    sys.exit(1)
print("every public-client check passed")
