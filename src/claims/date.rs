//! NumericDate (RFC 7519 §2): seconds since the Unix epoch, possibly fractional.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The largest magnitude a date may have: 2^53, the last integer every JSON implementation
/// (JavaScript included) represents exactly. Anything larger is refused rather than rounded.
const MAX_SECONDS: f64 = 9_007_199_254_740_992.0;

/// A JWT NumericDate. Integers and floats are accepted (`3600.5`), a string is not, nor a
/// value beyond ±2^53 or one that is not finite. It serializes back as an integer when it has
/// no fraction, so an SDK's integer date round-trips unchanged.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(crate) struct NumericDate(f64);

impl NumericDate {
    pub(crate) fn from_seconds(seconds: i64) -> Self {
        NumericDate(seconds as f64)
    }

    #[cfg(test)]
    pub(crate) fn as_f64(self) -> f64 {
        self.0
    }

    /// Whole seconds, truncated toward zero: the value the LiveKit server compares. It reads a
    /// NumericDate at one-second precision (golang-jwt's `TimePrecision`, as `livekit/protocol`'s
    /// `auth/verifier.go` uses it; go-jose before it read an `int64`), so
    /// `exp: 1700000000.9` expires exactly as `exp: 1700000000` does. Here `nbf: -0.5` is 0.
    pub(crate) fn seconds(self) -> i64 {
        self.0.trunc() as i64
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 {
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl Visitor<'_> for DateVisitor {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a number of seconds)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v.unsigned_abs() <= MAX_SECONDS as u64 {
                    Ok(NumericDate(v as f64))
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if v <= MAX_SECONDS as u64 {
                    Ok(NumericDate(v as f64))
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.is_finite() && v.abs() <= MAX_SECONDS {
                    Ok(NumericDate(v))
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
        }
        deserializer.deserialize_f64(DateVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<NumericDate, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integers_and_floats_are_dates_and_round_trip() {
        assert_eq!(parse("1700000000").expect("int").seconds(), 1_700_000_000);
        assert_eq!(parse("3600.5").expect("float").as_f64(), 3600.5);
        assert_eq!(parse("3600.9").expect("float").seconds(), 3600);
        assert_eq!(parse("-5.9").expect("negative float").seconds(), -5);
        for text in ["1700000000", "3600.5", "-5"] {
            let date = parse(text).expect("parses");
            assert_eq!(serde_json::to_string(&date).expect("serializes"), text);
        }
    }

    #[test]
    fn strings_and_huge_values_are_not_dates() {
        assert!(parse(r#""1700000000""#).is_err());
        assert!(parse("1e300").is_err());
        assert!(parse("18446744073709551615").is_err());
        assert!(parse("9007199254740993").is_err());
        assert!(parse("true").is_err());
    }
}
