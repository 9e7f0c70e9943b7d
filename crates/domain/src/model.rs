//! The canonical model every connector maps to and from. Ids are the remote
//! system's own, as text; times are UTC; money is `Money`.

use crate::money::Money;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: Option<String>,
    pub phone: Option<String>,
}

/// A customer as a store or an ERP knows them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Customer {
    /// The id in the system this record came from, if any.
    pub id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub addresses: Vec<Address>,
}

impl Customer {
    /// "First Last", or the email, or "Guest" — what a person would call them.
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            name
        } else if let Some(email) = &self.email {
            email.clone()
        } else {
            "Guest".to_owned()
        }
    }
}

/// A customer as read from a store or an ERP, with when it last changed there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerReading {
    /// The system's id for the customer (always set).
    pub id: String,
    pub customer: Customer,
    pub updated_at: DateTime<Utc>,
}

/// A customer field kept in step both ways. The address is the customer's
/// default (store) or primary (ERP) address, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerField {
    Email,
    Phone,
    Line1,
    Line2,
    City,
    Postcode,
    Country,
}

impl CustomerField {
    pub const ALL: [Self; 7] =
        [Self::Email, Self::Phone, Self::Line1, Self::Line2, Self::City, Self::Postcode, Self::Country];

    /// The name used in the journal, conflicts and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Line1 => "address line 1",
            Self::Line2 => "address line 2",
            Self::City => "city",
            Self::Postcode => "postcode",
            Self::Country => "country",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The field's value on `c`, as compared: trimmed, emails in lower case,
    /// phone numbers without spaces or punctuation, countries as ISO codes
    /// in capitals; empty is `None`.
    pub fn of(self, c: &Customer) -> Option<String> {
        let a = c.addresses.first();
        let raw = match self {
            Self::Email => c.email.clone(),
            Self::Phone => c.phone.clone(),
            Self::Line1 => a.and_then(|a| a.line1.clone()),
            Self::Line2 => a.and_then(|a| a.line2.clone()),
            Self::City => a.and_then(|a| a.city.clone()),
            Self::Postcode => a.and_then(|a| a.postcode.clone()),
            Self::Country => a.and_then(|a| a.country.clone()),
        }?;
        self.normalize(&raw)
    }

    /// `value` as compared (see `of`), or `None` when empty.
    pub fn normalize(self, value: &str) -> Option<String> {
        let v = value.trim();
        let v = match self {
            Self::Email => v.to_lowercase(),
            // Spaces and punctuation do not make another number; text
            // with hardly any digits is kept as it is (and refused on write).
            Self::Phone if v.chars().filter(char::is_ascii_digit).count() >= 4 => {
                v.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
            }
            Self::Country => v.to_uppercase(),
            _ => v.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        (!v.is_empty()).then_some(v)
    }

    /// Whether `value` (normalized) can be written: a plausible email, a
    /// phone number with digits, a two-letter country code.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            Self::Email if !value.contains('@') || value.contains(' ') => {
                Err(format!("{value:?} is not an email address"))
            }
            Self::Phone if value.chars().filter(char::is_ascii_digit).count() < 4 => {
                Err(format!("{value:?} is not a phone number"))
            }
            Self::Country if value.len() != 2 || !value.chars().all(|c| c.is_ascii_uppercase()) => {
                Err(format!("{value:?} is not a two-letter country code like DE"))
            }
            _ => Ok(()),
        }
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Option<String>,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Money,
}

/// Where an order stands in its own system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Cancelled,
    Closed,
}

/// An order as read from a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The store's id for this order (stable, unique within the store).
    pub id: String,
    /// The number people see, e.g. `#1001`.
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: OrderStatus,
    pub customer: Customer,
    pub shipping_address: Option<Address>,
    pub lines: Vec<OrderLine>,
    /// Shipping charged to the customer.
    #[serde(default)]
    pub shipping_lines: Vec<Charge>,
    /// Taxes as the store computed them, one per rate.
    #[serde(default)]
    pub tax_lines: Vec<Charge>,
    /// Whether line and shipping prices already include the taxes.
    #[serde(default)]
    pub taxes_included: bool,
    /// All discounts on the order, as a positive amount.
    #[serde(default)]
    pub discount: Option<Money>,
    pub total: Money,
    /// Money given back, oldest first.
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

/// Money given back on an order, with the goods returned if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The store's id for the refund (stable, unique).
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub note: Option<String>,
    /// Everything refunded: the lines, and shipping or other amounts.
    pub total: Money,
    pub lines: Vec<RefundLine>,
}

/// Goods on a refund: `quantity` of `sku`, refunded for `amount` in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub sku: Option<String>,
    pub quantity: i64,
    pub amount: Money,
}

/// A shipping or tax charge on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub title: String,
    pub amount: Money,
    /// For taxes: the rate, e.g. 0.19.
    #[serde(default)]
    pub rate: Option<Decimal>,
}

impl Order {
    /// Lines − discount + shipping (+ taxes when not included): what the
    /// order's parts add up to. `Err` names the part in another currency.
    pub fn parts_total(&self) -> Result<Decimal, String> {
        let currency = &self.total.currency;
        let mut sum = Decimal::ZERO;
        let too_big = |what: &str| format!("{what} is too large to add up (beyond what Ferry can count)");
        let mut add = |what: &str, m: &Money, sign: Decimal| {
            if &m.currency != currency {
                return Err(format!("{what} is in {} but the order is in {currency}", m.currency));
            }
            sum = sign.checked_mul(m.amount).and_then(|v| sum.checked_add(v)).ok_or_else(|| too_big(what))?;
            Ok(())
        };
        for l in &self.lines {
            let what = format!("line {:?}", l.title);
            let amount = l.unit_price.amount.checked_mul(Decimal::from(l.quantity)).ok_or_else(|| too_big(&what))?;
            add(&what, &Money::new(amount, l.unit_price.currency.clone()), Decimal::ONE)?;
        }
        if let Some(d) = &self.discount {
            add("the discount", d, -Decimal::ONE)?;
        }
        for c in &self.shipping_lines {
            add(&format!("shipping {:?}", c.title), &c.amount, Decimal::ONE)?;
        }
        if !self.taxes_included {
            for t in &self.tax_lines {
                add(&format!("tax {:?}", t.title), &t.amount, Decimal::ONE)?;
            }
        }
        Ok(sum)
    }

    /// Refuses an order whose parts do not add up to its total: posting it
    /// would make an ERP document with a different total.
    pub fn check_total(&self) -> Result<(), String> {
        let parts = self.parts_total()?;
        if parts == self.total.amount {
            Ok(())
        } else {
            Err(format!(
                "order {} adds up to {parts} {} (lines, discount, shipping, taxes) but the store's total is {}; \
                 Ferry will not post a document whose total differs",
                self.number, self.total.currency, self.total
            ))
        }
    }
}

/// What an ERP answered when asked for the document made from a store order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrderRef {
    /// The ERP's document id, e.g. `SAL-ORD-2026-00001`.
    pub id: String,
    /// The store order id we stored on it (our external reference).
    pub external_ref: String,
    /// Whether the document is cancelled in the ERP.
    #[serde(default)]
    pub cancelled: bool,
}

/// A product variant, keyed by SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub sku: String,
    pub title: String,
    pub price: Money,
    pub active: bool,
}

/// A product with its variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: Option<String>,
    pub title: String,
    pub variants: Vec<Variant>,
    pub updated_at: DateTime<Utc>,
}

/// One SKU's catalog fields as one system has them. `None` means the system
/// has no such value for this SKU, or Ferry does not sync it there (e.g. the
/// title of one variant of a Shopify product that has several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: String,
    pub title: Option<String>,
    pub price: Option<Money>,
    /// For sale (Shopify status ACTIVE, ERPNext item not disabled).
    pub active: Option<bool>,
}

/// One catalog field of a SKU to set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogField {
    Title(String),
    Price(Money),
    Active(bool),
}

/// How many of a SKU can be sold from one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: String,
    pub location: String,
    pub on_hand: Decimal,
    pub reserved: Decimal,
}

impl StockLevel {
    /// What may be offered for sale: on hand minus reserved, never below zero.
    /// Pushing on-hand alone oversells.
    pub fn available(&self) -> Decimal {
        // Beyond Decimal's range (only a broken answer gets there): nothing
        // counted as available rather than a panic.
        self.on_hand.checked_sub(self.reserved).unwrap_or(Decimal::ZERO).max(Decimal::ZERO)
    }
}

/// A stock level as read from the ERP, with when it last changed there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReading {
    /// The ERP's id for this record (e.g. the Bin's name).
    pub id: String,
    pub level: StockLevel,
    pub updated_at: DateTime<Utc>,
}

/// An order the ERP says is ready to ship (e.g. a submitted Delivery Note
/// with no tracking number yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyParcel {
    /// The ERP's id of the shipping document.
    pub id: String,
    /// The store order it ships (our external reference on the ERP order),
    /// when the order came from a store.
    pub order_ref: Option<String>,
    /// What people call the order, e.g. the ERP order's id.
    pub order_label: String,
    pub to: Address,
    pub email: Option<String>,
    pub weight_grams: u32,
    pub updated_at: DateTime<Utc>,
}

/// A parcel to book with a courier: what the ERP said is ready to ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRequest {
    /// Our reference for this parcel, stored on the courier's shipment so a
    /// retry after a crash finds it instead of buying a second label. It is
    /// the ERP's id of the shipping document (e.g. a Delivery Note).
    pub reference: String,
    /// The store order the parcel is for (for people and the store's fulfillment).
    pub order_ref: String,
    /// Where it goes; `name` is the recipient.
    pub to: Address,
    pub email: Option<String>,
    /// The parcel's weight in grams.
    pub weight_grams: u32,
    /// A carrier service to buy, e.g. `Priority`; the cheapest rate when `None`.
    pub service: Option<String>,
}

/// A parcel booked with a courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The courier's id for the shipment.
    pub id: Option<String>,
    /// `ShipmentRequest::reference`.
    pub order_ref: String,
    /// The carrier that moves it, e.g. `USPS`, `DHL`.
    pub carrier: String,
    pub service: String,
    pub tracking_number: Option<String>,
    pub label_url: Option<String>,
    /// A page where the customer can follow the parcel.
    #[serde(default)]
    pub tracking_url: Option<String>,
}

/// Where a parcel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    FailedDelivery,
    ReturnedToSender,
    Unknown,
}

/// One scan of a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub tracking_number: String,
    pub at: DateTime<Utc>,
    pub status: TrackingStatus,
    pub message: String,
}

impl TrackingStatus {
    /// An exception a person must hear about.
    pub fn is_exception(self) -> bool {
        matches!(self, Self::FailedDelivery | Self::ReturnedToSender)
    }
}

/// An order with no lines, for tests of the logic around orders.
#[cfg(test)]
pub(crate) fn sample_order(id: &str, at: DateTime<Utc>, status: OrderStatus, total: &str) -> Order {
    Order {
        id: id.into(),
        number: format!("#{id}"),
        created_at: at,
        updated_at: at,
        status,
        customer: Customer::default(),
        shipping_address: None,
        lines: vec![],
        shipping_lines: vec![],
        tax_lines: vec![],
        taxes_included: true,
        discount: None,
        total: Money::parse(total, "EUR").expect("valid test money"),
        refunds: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_never_counts_reserved_stock() {
        let level = StockLevel {
            sku: "MUG".into(),
            location: "Main".into(),
            on_hand: Decimal::from(5),
            reserved: Decimal::from(7),
        };
        assert_eq!(level.available(), Decimal::ZERO, "reserved above on-hand leaves nothing to sell");
        let broken = StockLevel { on_hand: Decimal::MAX, reserved: Decimal::MIN, ..level };
        assert_eq!(broken.available(), Decimal::ZERO, "beyond Decimal's range: nothing, not a panic");
    }

    #[test]
    fn an_order_too_large_to_add_up_is_refused_not_a_panic() {
        let mut o = order_with("10.00", true);
        o.lines[0].unit_price = Money::new(Decimal::MAX, o.lines[0].unit_price.currency.clone());
        o.lines[0].quantity = 3;
        let e = o.check_total().expect_err("overflow is refused");
        assert!(e.contains("too large to add up"), "{e}");
    }

    fn eur(s: &str) -> Money {
        Money::parse(s, "EUR").expect("valid money")
    }

    fn order_with(total: &str, taxes_included: bool) -> Order {
        let at = chrono::Utc::now();
        Order {
            id: "1".into(),
            number: "#1001".into(),
            created_at: at,
            updated_at: at,
            status: OrderStatus::Open,
            customer: Customer::default(),
            shipping_address: None,
            lines: vec![OrderLine {
                sku: Some("MUG".into()),
                title: "Mug".into(),
                quantity: 2,
                unit_price: eur("10.00"),
            }],
            shipping_lines: vec![Charge { title: "Standard".into(), amount: eur("4.90"), rate: None }],
            tax_lines: vec![Charge { title: "VAT 19%".into(), amount: eur("3.99"), rate: Some(Decimal::new(19, 2)) }],
            taxes_included,
            discount: Some(eur("1.00")),
            total: eur(total),
            refunds: vec![],
        }
    }

    #[test]
    fn totals_add_up_to_the_cent_or_are_refused() {
        assert_eq!(order_with("27.89", false).check_total(), Ok(()), "20 − 1 + 4.90 + 3.99");
        assert_eq!(order_with("23.90", true).check_total(), Ok(()), "included taxes are not added again");
        let err = order_with("27.88", false).check_total().expect_err("one cent off");
        assert!(err.contains("27.89") && err.contains("27.88 EUR"), "{err}");
        let mut usd = order_with("27.89", false);
        usd.shipping_lines[0].amount = Money::parse("4.90", "USD").expect("valid");
        assert!(usd.check_total().expect_err("mixed currencies").contains("USD"));
    }

    #[test]
    fn display_name_falls_back_to_email_then_guest() {
        let mut c = Customer { email: Some("a@b.c".into()), ..Customer::default() };
        assert_eq!(c.display_name(), "a@b.c");
        c.first_name = Some("Ada".into());
        assert_eq!(c.display_name(), "Ada");
        assert_eq!(Customer::default().display_name(), "Guest");
    }
}
