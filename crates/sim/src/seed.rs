//! Deterministic seeded data: the same seed gives the same shop every time.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

/// SplitMix64: tiny, fast and stable across versions (unlike library RNGs).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A product both the store and the ERP know (SKU = item code).
#[derive(Debug, Clone)]
pub struct SeedProduct {
    pub sku: String,
    pub title: String,
    pub price: Decimal,
}

const NOUNS: &[&str] =
    &["Mug", "Tote bag", "Notebook", "Candle", "Tea tin", "Poster", "Scarf", "Socks", "Coaster", "Pen"];
const ADJECTIVES: &[&str] = &["Blue", "Linen", "Large", "Small", "Organic"];
const FIRST: &[&str] = &["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Edsger", "Frances", "Tim"];
const LAST: &[&str] =
    &["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Dijkstra", "Allen", "Berners-Lee"];
const CITIES: &[(&str, &str, &str)] =
    &[("Berlin", "10115", "DE"), ("Hamburg", "20095", "DE"), ("Wien", "1010", "AT"), ("Zürich", "8001", "CH")];

/// Twenty products with stable SKUs and prices.
pub fn catalog(seed: u64) -> Vec<SeedProduct> {
    let mut rng = Rng::new(seed ^ 0xCA7A_1065);
    let mut out = Vec::new();
    for (i, noun) in NOUNS.iter().enumerate() {
        for adj in ADJECTIVES.iter().take(2) {
            let cents = 499 + rng.below(4500) as i64;
            out.push(SeedProduct {
                sku: format!("{}-{:02}", noun.to_uppercase().replace(' ', ""), out.len() + 1),
                title: format!("{adj} {noun}"),
                price: Decimal::new(cents, 2),
            });
        }
        let _ = i;
    }
    out
}

/// Products `SKU-{from+1}` … up to `until` in all (none when the catalog
/// already has that many), for benchmarks with a large catalog.
pub fn more_products(from: usize, until: usize) -> Vec<SeedProduct> {
    (from..until)
        .map(|i| SeedProduct {
            sku: format!("SKU-{:05}", i + 1),
            title: format!("Product {}", i + 1),
            price: Decimal::new(500 + (i as i64 * 37) % 9000, 2),
        })
        .collect()
}

/// One seeded store order, vendor-neutral; each emulator renders it its way.
#[derive(Debug, Clone)]
pub struct SeedOrder {
    pub number: u64,
    pub created_at: DateTime<Utc>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub city: (&'static str, &'static str, &'static str),
    pub lines: Vec<(SeedProduct, i64)>,
    /// Percent off the whole order (0 for none).
    pub discount_percent: u32,
    /// Whether prices include VAT (most EU shops) or VAT is added on top.
    pub taxes_included: bool,
    /// VAT rate in percent: 19 or 7.
    pub vat_percent: u32,
}

/// An order's money, worked out the way a store does, to the cent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedTotals {
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub shipping: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// Free shipping from this subtotal on.
const FREE_SHIPPING_FROM: i64 = 50;

impl SeedOrder {
    pub fn totals(&self) -> SeedTotals {
        let subtotal: Decimal = self.lines.iter().map(|(p, q)| p.price * Decimal::from(*q)).sum();
        let discount = (subtotal * Decimal::new(i64::from(self.discount_percent), 2)).round_dp(2);
        let shipping = if subtotal >= Decimal::from(FREE_SHIPPING_FROM) { Decimal::ZERO } else { Decimal::new(490, 2) };
        let taxable = subtotal - discount + shipping;
        let rate = Decimal::new(i64::from(self.vat_percent), 2);
        let (tax, total) = if self.taxes_included {
            ((taxable * rate / (Decimal::ONE + rate)).round_dp(2), taxable)
        } else {
            let tax = (taxable * rate).round_dp(2);
            (tax, taxable + tax)
        };
        SeedTotals { subtotal, discount, shipping, tax, total }
    }
}

/// `count` orders, the last one at `newest`, one to three minutes apart.
pub fn orders(
    seed: u64,
    count: usize,
    first_number: u64,
    newest: DateTime<Utc>,
    catalog: &[SeedProduct],
) -> Vec<SeedOrder> {
    let mut rng = Rng::new(seed);
    let mut at = newest;
    let mut out: Vec<SeedOrder> = (0..count)
        .map(|i| {
            let first = rng.pick(FIRST).to_string();
            let last = rng.pick(LAST).to_string();
            let lines = (0..1 + rng.below(3)).map(|_| (rng.pick(catalog).clone(), 1 + rng.below(3) as i64)).collect();
            let o = SeedOrder {
                number: first_number + (count - 1 - i) as u64,
                created_at: at,
                email: format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase().replace('-', "")),
                first_name: first,
                last_name: last,
                city: *rng.pick(CITIES),
                lines,
                discount_percent: if rng.below(4) == 0 { 10 } else { 0 },
                taxes_included: rng.below(3) != 0,
                vat_percent: if rng.below(5) == 0 { 7 } else { 19 },
            };
            at -= Duration::seconds(60 + rng.below(120) as i64);
            o
        })
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("valid").with_timezone(&Utc);
        let cat = catalog(1);
        let a = orders(1, 50, 1001, now, &cat);
        let b = orders(1, 50, 1001, now, &cat);
        assert_eq!(a.len(), 50);
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "seeded data is reproducible");
        assert_eq!(a.last().map(|o| o.created_at), Some(now), "the newest order is at `now`");
        assert!(a.windows(2).all(|w| w[0].created_at < w[1].created_at && w[0].number < w[1].number));
        assert_eq!(cat.len(), 20);
        for o in &a {
            let t = o.totals();
            let added = t.subtotal - t.discount + t.shipping + if o.taxes_included { Decimal::ZERO } else { t.tax };
            assert_eq!(added, t.total, "order {} adds up", o.number);
            assert_eq!(t.total.scale().min(2), t.total.scale(), "to the cent");
        }
        assert!(
            a.iter().any(|o| o.discount_percent > 0) && a.iter().any(|o| !o.taxes_included),
            "the mix has discounts and added VAT"
        );
    }
}
