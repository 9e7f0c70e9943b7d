//! What every connector checks about the numbers in an order, in two places.
//!
//! Reading (stores): quantities and amounts beyond anything a shop sells
//! are refused as unreadable, so no sum or product made from them later
//! can overflow. Posting (ERPs, just before the create): the order must be
//! bookable as it is: an ISO 4217 currency, no more decimals than that
//! currency has, at least one of each line. An order that fails is refused
//! (`Rejected`: dead-lettered with the reason) and the others still go.

use ferry_domain::{ConnectorError, FieldError, Money, Order};
use rust_decimal::Decimal;

/// The largest quantity of one line Ferry reads (a billion).
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The largest amount Ferry reads: 10^15 in any currency.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// ISO 4217 codes in use, with their minor units, where not 2.
const ZERO_DECIMALS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    "XPF",
];
const THREE_DECIMALS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const FOUR_DECIMALS: &[&str] = &["CLF", "UYW"];
const TWO_DECIMALS: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND",
    "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU",
    "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
    "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
    "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

/// How many decimals `code` has (ISO 4217), or `None` for a code that is
/// not a currency in use.
pub fn minor_units(code: &str) -> Option<u32> {
    if TWO_DECIMALS.contains(&code) {
        Some(2)
    } else if ZERO_DECIMALS.contains(&code) {
        Some(0)
    } else if THREE_DECIMALS.contains(&code) {
        Some(3)
    } else if FOUR_DECIMALS.contains(&code) {
        Some(4)
    } else {
        None
    }
}

/// `Err` (the reason) unless `code` is an ISO 4217 currency in use.
pub fn known_currency(code: &str) -> Result<(), String> {
    match minor_units(code) {
        Some(_) => Ok(()),
        None => Err(format!("{code} is not an ISO 4217 currency code (such as EUR, USD, GBP)")),
    }
}

/// `Err` (the reason) when `m` has more decimals than its currency.
pub fn exact_in_currency(m: &Money) -> Result<(), String> {
    let code = m.currency.code();
    let units = minor_units(code).ok_or_else(|| format!("{code} is not an ISO 4217 currency code"))?;
    let scale = m.amount.normalize().scale();
    if scale > units {
        return Err(format!("{m} has {scale} decimals but {code} has {units}; it cannot be booked exactly"));
    }
    Ok(())
}

/// A quantity as read, or why it cannot be (beyond `MAX_QUANTITY` either way).
pub fn readable_quantity(quantity: i64) -> Result<i64, String> {
    if quantity.checked_abs().is_some_and(|q| q <= MAX_QUANTITY) {
        Ok(quantity)
    } else {
        Err(format!("quantity {quantity} is beyond what Ferry reads (at most {MAX_QUANTITY})"))
    }
}

/// An amount as read, or why it cannot be (beyond `MAX_AMOUNT` either way).
pub fn readable_amount(amount: Decimal) -> Result<Decimal, String> {
    if amount.abs() <= MAX_AMOUNT {
        Ok(amount)
    } else {
        Err(format!("amount {amount} is beyond what Ferry reads (at most {MAX_AMOUNT})"))
    }
}

/// Refuses a price that cannot be written exactly (a person typed 12.345
/// for a EUR price, or a currency that is not one), naming the SKU.
pub fn writable_price(sku: &str, price: &Money) -> Result<(), ConnectorError> {
    exact_in_currency(price).map_err(|why| ConnectorError::Rejected {
        message: format!("the price of {sku}: {why}; type it with at most the currency's decimals"),
        fields: vec![FieldError { field: "price".into(), message: why }],
    })
}

/// Refuses an order an ERP cannot book as it is, naming the order, the
/// line or charge, and what to fix. ERP connectors call it before creating
/// the document.
pub fn postable(order: &Order) -> Result<(), ConnectorError> {
    let refuse = |field: String, message: String| ConnectorError::Rejected {
        message: format!("order {}: {message}", order.number),
        fields: vec![FieldError { field, message: "refused before posting".into() }],
    };
    let code = order.total.currency.code();
    known_currency(code)
        .map_err(|why| refuse("currency".into(), format!("{why}; check the currency of the order in the store")))?;
    for (i, line) in order.lines.iter().enumerate() {
        let which = format!("line {} ({:?})", i + 1, line.title);
        if line.quantity < 1 {
            return Err(refuse(
                format!("lines[{i}].quantity"),
                format!("{which} has quantity {}; a line needs at least 1. Fix the order in the store", line.quantity),
            ));
        }
        exact_in_currency(&line.unit_price).map_err(|why| {
            refuse(format!("lines[{i}].unit_price"), format!("{which}: the price {why}. Fix the price in the store"))
        })?;
    }
    let mut charges: Vec<(String, String, &Money)> = Vec::new();
    for (i, c) in order.shipping_lines.iter().enumerate() {
        charges.push((format!("shipping_lines[{i}]"), format!("shipping {:?}", c.title), &c.amount));
    }
    for (i, c) in order.tax_lines.iter().enumerate() {
        charges.push((format!("tax_lines[{i}]"), format!("tax {:?}", c.title), &c.amount));
    }
    if let Some(d) = &order.discount {
        charges.push(("discount".into(), "the discount".into(), d));
    }
    charges.push(("total".into(), "the total".into(), &order.total));
    for (field, what, money) in charges {
        exact_in_currency(money).map_err(|why| refuse(field, format!("{what}: {why}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_domain::{Currency, Customer, OrderLine, OrderStatus};

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").expect("valid money")
    }

    fn order(lines: &[(i64, &str)], currency: &str) -> Order {
        let currency = Currency::new(currency).expect("three capitals");
        let total: Decimal =
            lines.iter().map(|(q, p)| Decimal::from(*q) * p.parse::<Decimal>().expect("decimal")).sum();
        Order {
            id: "gid://shopify/Order/1".into(),
            number: "#1001".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            status: OrderStatus::Open,
            customer: Customer::default(),
            shipping_address: None,
            lines: lines
                .iter()
                .map(|(q, p)| OrderLine {
                    sku: Some("MUG-01".into()),
                    title: "Mug".into(),
                    quantity: *q,
                    unit_price: Money::new(p.parse().expect("decimal"), currency.clone()),
                })
                .collect(),
            shipping_lines: vec![],
            tax_lines: vec![],
            taxes_included: true,
            discount: None,
            total: Money::new(total, currency),
            refunds: vec![],
        }
    }

    fn refusal(o: &Order) -> String {
        match postable(o) {
            Err(ConnectorError::Rejected { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn max_amount_is_ten_to_the_fifteenth() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000u64));
    }

    #[test]
    fn a_plain_order_is_postable() {
        assert_eq!(postable(&order(&[(2, "12.50"), (1, "3")], "EUR")), Ok(()));
        assert_eq!(postable(&order(&[(1, "1500")], "JPY")), Ok(()), "yen have no decimals");
        assert_eq!(postable(&order(&[(1, "1.125")], "KWD")), Ok(()), "dinars have three");
        assert_eq!(postable(&order(&[(1, "12.5000")], "EUR")), Ok(()), "trailing zeros are not decimals");
    }

    #[test]
    fn each_refusal_names_the_order_the_line_and_the_fix() {
        let m = refusal(&order(&[(1, "12.00"), (-3, "4.00")], "EUR"));
        assert!(m.contains("order #1001") && m.contains("line 2 (\"Mug\")") && m.contains("quantity -3"), "{m}");
        let m = refusal(&order(&[(0, "4.00")], "EUR"));
        assert!(m.contains("quantity 0"), "{m}");
        let m = refusal(&order(&[(1, "12.345")], "EUR"));
        assert!(m.contains("12.345 EUR has 3 decimals but EUR has 2") && m.contains("line 1"), "{m}");
        let m = refusal(&order(&[(1, "100.5")], "JPY"));
        assert!(m.contains("JPY has 0"), "{m}");
        let m = refusal(&order(&[(1, "12.00")], "XYZ"));
        assert!(m.contains("XYZ is not an ISO 4217 currency"), "{m}");
    }

    #[test]
    fn charges_are_checked_too() {
        let mut o = order(&[(1, "10.00")], "EUR");
        o.shipping_lines.push(ferry_domain::Charge { title: "Standard".into(), amount: eur("4.999"), rate: None });
        let m = refusal(&o);
        assert!(m.contains("shipping \"Standard\""), "{m}");
    }

    #[test]
    fn prices_to_write_are_exact() {
        assert_eq!(writable_price("MUG-01", &eur("12.50")), Ok(()));
        match writable_price("MUG-01", &eur("12.345")) {
            Err(ConnectorError::Rejected { message, .. }) => {
                assert!(message.contains("the price of MUG-01"), "{message}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn reading_bounds() {
        assert_eq!(readable_quantity(3), Ok(3));
        assert_eq!(readable_quantity(-3), Ok(-3), "a negative quantity is read, and refused when posting");
        assert!(readable_quantity(i64::MAX).is_err());
        assert!(readable_quantity(i64::MIN).is_err(), "no overflow taking the size of the smallest i64");
        assert!(readable_amount(Decimal::MAX).is_err());
        assert_eq!(readable_amount(Decimal::new(-1999, 2)), Ok(Decimal::new(-1999, 2)));
        // The bounds keep the domain's sums far from Decimal's limit (about 7.9e28).
        let worst = MAX_AMOUNT * Decimal::from(MAX_QUANTITY) * Decimal::from(1000);
        assert!(worst < Decimal::MAX, "a thousand lines at the limits still add up");
    }
}
