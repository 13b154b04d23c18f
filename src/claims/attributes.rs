//! `attributes`: the participant's string key/value pairs.

use std::fmt;

use compact_str::CompactString;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Participant attributes (the `attributes` claim): string keys to string values, each key once,
/// in key order.
///
/// Kept compactly because every verified join token carries them: keys and values of up to 24
/// bytes are stored inline, so a typical token's attributes cost one allocation, not one per
/// string and per tree node as a `BTreeMap<String, String>` would.
///
/// ```
/// use tower_livekit_auth::Claims;
///
/// let claims: Claims =
///     serde_json::from_str(r#"{"attributes":{"team":"blue","locale":"en-US"}}"#).unwrap();
/// let attributes = claims.attributes();
/// assert_eq!(attributes.get("team"), Some("blue"));
/// assert_eq!(attributes.get("seat"), None);
/// let pairs: Vec<_> = attributes.iter().collect();
/// assert_eq!(pairs, [("locale", "en-US"), ("team", "blue")]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Sorted by key, no key twice.
    pairs: Vec<(CompactString, CompactString)>,
}

impl Attributes {
    /// No attributes.
    #[must_use]
    pub const fn new() -> Self {
        Attributes { pairs: Vec::new() }
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.pairs[i].1.as_str())
    }

    /// Whether `key` is set.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// How many attributes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The attributes in key order.
    #[must_use]
    pub fn iter(&self) -> AttributesIter<'_> {
        AttributesIter(self.pairs.iter())
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.pairs.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// These attributes with `changes` merged in, as `UpdateParticipant` merges them: a value
    /// replaces the key's, `""` deletes the key. `changes` must come in key order.
    pub(crate) fn merged<'a>(self, changes: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut pairs = self.pairs;
        for (key, value) in changes {
            match pairs.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
                Ok(i) if value.is_empty() => {
                    pairs.remove(i);
                }
                Ok(i) => pairs[i].1 = value.into(),
                Err(_) if value.is_empty() => {}
                Err(i) => pairs.insert(i, (key.into(), value.into())),
            }
        }
        Attributes { pairs }
    }

    /// `pairs` in key order, a key given twice keeping its last value.
    fn last_wins(mut pairs: Vec<(CompactString, CompactString)>) -> Self {
        // Stable, so that among equal keys the last given stays last.
        pairs.sort_by(|(a, _), (b, _)| a.cmp(b));
        // `dedup_by` keeps the first of a run and drops the later ones: move their values in.
        pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Attributes { pairs }
    }

    /// `pairs` in key order, or an error if a key is given twice.
    fn unique(mut pairs: Vec<(CompactString, CompactString)>) -> Result<Self, RepeatedKey> {
        pairs.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(RepeatedKey);
        }
        Ok(Attributes { pairs })
    }
}

/// An attribute key given twice where that is refused.
struct RepeatedKey;

/// Later pairs replace earlier ones with the same key, as when collecting into a map.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Attributes::last_wins(
            iter.into_iter()
                .map(|(k, v)| (CompactString::from(k.into()), CompactString::from(v.into())))
                .collect(),
        )
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a str, &'a str);
    type IntoIter = AttributesIter<'a>;

    fn into_iter(self) -> AttributesIter<'a> {
        self.iter()
    }
}

/// The attributes in key order, from [`Attributes::iter`].
#[derive(Clone, Debug)]
pub struct AttributesIter<'a>(std::slice::Iter<'a, (CompactString, CompactString)>);

impl<'a> Iterator for AttributesIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for AttributesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl ExactSizeIterator for AttributesIter<'_> {}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A JSON object of strings; a key given twice is refused (the LiveKit server would keep one of
/// the two silently).
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;
        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of string attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry::<CompactString, CompactString>()? {
                    pairs.push(pair);
                }
                Attributes::unique(pairs)
                    .map_err(|RepeatedKey| de::Error::custom("duplicate attribute"))
            }
        }
        deserializer.deserialize_map(AttributesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_every_key_and_only_those() {
        let attributes: Attributes =
            serde_json::from_str(r#"{"b":"2","a":"1","c":"3"}"#).expect("parses");
        assert_eq!(attributes.len(), 3);
        for (key, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
            assert_eq!(attributes.get(key), Some(value));
            assert!(attributes.contains_key(key));
        }
        assert_eq!(attributes.get("d"), None);
        assert_eq!(attributes.get(""), None);
        assert!(!Attributes::new().contains_key("a"));
    }

    #[test]
    fn they_serialize_in_key_order() {
        let attributes: Attributes =
            serde_json::from_str(r#"{"z":"","a":"long value that is stored on the heap"}"#)
                .expect("parses");
        assert_eq!(
            serde_json::to_string(&attributes).expect("serializes"),
            r#"{"a":"long value that is stored on the heap","z":""}"#
        );
    }

    #[test]
    fn a_key_twice_is_refused_when_read() {
        for json in [r#"{"k":"a","k":"b"}"#, r#"{"k":"a","x":"","k":"a"}"#] {
            assert!(serde_json::from_str::<Attributes>(json).is_err(), "{json}");
        }
        assert!(serde_json::from_str::<Attributes>(r#"{"k":1}"#).is_err());
    }

    #[test]
    fn collecting_keeps_the_last_value_of_a_key() {
        let attributes: Attributes = [("k", "1"), ("j", "x"), ("k", "2"), ("k", "3")]
            .into_iter()
            .collect();
        assert_eq!(
            attributes.iter().collect::<Vec<_>>(),
            [("j", "x"), ("k", "3")]
        );
    }
}
