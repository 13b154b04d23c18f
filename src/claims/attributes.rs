//! `attributes`: the participant's string key/value pairs.

use std::fmt;

use compact_str::CompactString;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Participant attributes (the `attributes` claim): string keys to string values, each key once,
/// in key order.
///
/// Kept compactly because every verified join token carries them: keys and values of up to 24
/// bytes are stored inline, and so are up to four pairs, so a typical token's attributes cost
/// no allocation at all, not one per string and per tree node as a `BTreeMap<String, String>`
/// would.
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
    pairs: Pairs,
}

type Pair = (CompactString, CompactString);

/// How many pairs are kept inline.
const INLINE_PAIRS: usize = 4;

const NO_PAIR: Pair = (CompactString::const_new(""), CompactString::const_new(""));

/// The pairs: inline up to [`INLINE_PAIRS`], on the heap beyond.
#[derive(Clone)]
enum Pairs {
    Inline {
        pairs: [Pair; INLINE_PAIRS],
        len: u8,
    },
    Heap(Vec<Pair>),
}

impl Pairs {
    const EMPTY: Pairs = Pairs::Inline {
        pairs: [NO_PAIR; INLINE_PAIRS],
        len: 0,
    };

    fn as_slice(&self) -> &[Pair] {
        match self {
            Pairs::Inline { pairs, len } => &pairs[..usize::from(*len)],
            Pairs::Heap(pairs) => pairs,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Pair] {
        match self {
            Pairs::Inline { pairs, len } => &mut pairs[..usize::from(*len)],
            Pairs::Heap(pairs) => pairs,
        }
    }

    fn push(&mut self, pair: Pair) {
        match self {
            Pairs::Inline { pairs, len } if usize::from(*len) < INLINE_PAIRS => {
                pairs[usize::from(*len)] = pair;
                *len += 1;
            }
            Pairs::Inline { pairs, .. } => {
                let mut heap = Vec::with_capacity(2 * INLINE_PAIRS);
                heap.extend(pairs.iter_mut().map(std::mem::take));
                heap.push(pair);
                *self = Pairs::Heap(heap);
            }
            Pairs::Heap(pairs) => pairs.push(pair),
        }
    }

    fn from_vec(vec: Vec<Pair>) -> Self {
        if vec.len() > INLINE_PAIRS {
            return Pairs::Heap(vec);
        }
        let mut pairs = Pairs::EMPTY;
        for pair in vec {
            pairs.push(pair);
        }
        pairs
    }

    fn into_vec(self) -> Vec<Pair> {
        match self {
            Pairs::Inline { pairs, len } => pairs.into_iter().take(usize::from(len)).collect(),
            Pairs::Heap(pairs) => pairs,
        }
    }
}

impl Default for Pairs {
    fn default() -> Self {
        Pairs::EMPTY
    }
}

/// The same pairs, however they are kept.
impl PartialEq for Pairs {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Pairs {}

impl Attributes {
    /// No attributes.
    #[must_use]
    pub const fn new() -> Self {
        Attributes {
            pairs: Pairs::EMPTY,
        }
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key)
            .ok()
            .map(|i| self.pairs.as_slice()[i].1.as_str())
    }

    /// Whether `key` is set.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// How many attributes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.as_slice().len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attributes in key order.
    #[must_use]
    pub fn iter(&self) -> AttributesIter<'_> {
        AttributesIter(self.pairs.as_slice().iter())
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.pairs
            .as_slice()
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// These attributes with `changes` merged in, as `UpdateParticipant` merges them: a value
    /// replaces the key's, `""` deletes the key. `changes` must come in key order.
    pub(crate) fn merged<'a>(self, changes: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut pairs = self.pairs.into_vec();
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
        Attributes {
            pairs: Pairs::from_vec(pairs),
        }
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
        Attributes {
            pairs: Pairs::from_vec(pairs),
        }
    }

    /// Puts the pairs in key order; an error if a key is given twice.
    fn sort_unique(&mut self) -> Result<(), RepeatedKey> {
        let slice = self.pairs.as_mut_slice();
        slice.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        if slice.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(RepeatedKey);
        }
        Ok(())
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
        let mut attributes = None;
        deserializer.deserialize_map(AttributesSeed(&mut attributes))?;
        Ok(attributes.unwrap_or_default())
    }
}

/// Reads `attributes` (`null` as absent) straight into its slot: the pairs are kept inline, so
/// building them in place saves moving them through every layer of serde.
pub(crate) struct AttributesSeed<'a>(pub(crate) &'a mut Option<Attributes>);

impl<'de> DeserializeSeed<'de> for AttributesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for AttributesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of string attributes")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let attributes = self.0.insert(Attributes::new());
        while let Some(pair) = map.next_entry::<CompactString, CompactString>()? {
            attributes.pairs.push(pair);
        }
        attributes
            .sort_unique()
            .map_err(|RepeatedKey| de::Error::custom("duplicate attribute"))
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
        assert!(serde_json::from_str::<Attributes>("null").is_err());
    }

    #[test]
    fn many_pairs_move_to_the_heap_and_still_compare_by_content() {
        let many: Vec<(String, String)> = (0..INLINE_PAIRS + 3)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .rev()
            .collect();
        let json = serde_json::to_string(
            &many
                .iter()
                .cloned()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .expect("json");
        let read: Attributes = serde_json::from_str(&json).expect("parses");
        assert_eq!(read.len(), INLINE_PAIRS + 3);
        assert_eq!(read.get("k0"), Some("v0"));
        assert_eq!(read, many.into_iter().collect::<Attributes>());
        // Merged down to a few, they compare equal to the same few read inline.
        let fewer = read.merged([("k3", ""), ("k4", ""), ("k5", ""), ("k6", "")].into_iter());
        let inline: Attributes =
            serde_json::from_str(r#"{"k0":"v0","k1":"v1","k2":"v2"}"#).expect("parses");
        assert_eq!(fewer, inline);
        assert!(matches!(inline.pairs, Pairs::Inline { len: 3, .. }));
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
