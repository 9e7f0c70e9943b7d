//! Money: a decimal amount with an ISO 4217 currency. Never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code such as `EUR`: three ASCII capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency code {0:?} is not three capital letters (ISO 4217, e.g. EUR)")]
    BadCurrency(String),
    #[error("amount {0:?} is not a decimal number")]
    BadAmount(String),
    #[error("cannot add {0} to {1}: different currencies")]
    CurrencyMismatch(Currency, Currency),
}

impl Currency {
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code.to_owned()))
        } else {
            Err(MoneyError::BadCurrency(code.to_owned()))
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::new(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Parses an amount given as text (as most APIs send it) in `currency`.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        let amount = Decimal::from_str(amount.trim()).map_err(|_| MoneyError::BadAmount(amount.to_owned()))?;
        Ok(Self { amount, currency: Currency::new(currency)? })
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(other.currency.clone(), self.currency.clone()));
        }
        Ok(Money { amount: self.amount + other.amount, currency: self.currency.clone() })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_amounts_exactly() {
        let m = Money::parse("19.99", "EUR").expect("valid money");
        assert_eq!(m.amount.to_string(), "19.99", "decimal keeps every cent, unlike f64");
        assert_eq!(m.to_string(), "19.99 EUR");
    }

    #[test]
    fn rejects_bad_currency_and_amount() {
        assert_eq!(Money::parse("1", "eur"), Err(MoneyError::BadCurrency("eur".into())));
        assert_eq!(Money::parse("1,5", "EUR"), Err(MoneyError::BadAmount("1,5".into())));
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let a = Money::parse("1", "EUR").expect("valid");
        let b = Money::parse("1", "USD").expect("valid");
        assert!(a.checked_add(&b).is_err(), "EUR + USD has no meaning without a rate");
        assert_eq!(a.checked_add(&a).expect("same currency").amount.to_string(), "2");
    }

    #[test]
    fn serde_round_trip_keeps_amount_as_text() {
        let m = Money::parse("0.10", "GBP").expect("valid");
        let json = serde_json::to_string(&m).expect("serialize");
        assert_eq!(json, r#"{"amount":"0.10","currency":"GBP"}"#);
        let back: Money = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, m);
    }
}
