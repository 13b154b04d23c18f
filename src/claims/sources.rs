//! `canPublishSources` as the token wrote it, without an allocation for the usual lists.

use std::fmt;

use compact_str::CompactString;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::TrackSource;

/// How many names a list of known sources holds inline (so that the enum stays as small as
/// the `Vec` beside it).
const INLINE: usize = 15;

/// The names of `canPublishSources`, in the token's order, repeats kept (the server compares
/// them exactly, so they are never normalised): the known lower-case names as their protobuf
/// numbers, inline, which is every list an SDK writes; any other list as its strings.
///
/// A list has one representation only (`Known` whenever it can be), so that the derived
/// equality is the equality of the lists.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublishSources {
    /// Every name is a [`TrackSource`] name: their numbers, `len` of them.
    Known { numbers: [u8; INLINE], len: u8 },
    /// A name the crate does not know (`"CAMERA"`), or more than [`INLINE`] names.
    Names(Vec<CompactString>),
}

impl Default for PublishSources {
    fn default() -> Self {
        PublishSources::EMPTY
    }
}

impl PublishSources {
    /// The empty list.
    pub(crate) const EMPTY: PublishSources = PublishSources::Known {
        numbers: [0; INLINE],
        len: 0,
    };

    /// The list of `sources`' names.
    pub(crate) fn from_sources(sources: impl IntoIterator<Item = TrackSource>) -> Self {
        let mut list = PublishSources::default();
        for source in sources {
            list.push(source.as_str());
        }
        list
    }

    /// The list of `names`, in order.
    pub(crate) fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut list = PublishSources::default();
        for name in names {
            list.push(name);
        }
        list
    }

    /// Appends `name`, moving to the strings if it is not a known name or the inline list is
    /// full.
    fn push(&mut self, name: &str) {
        if let PublishSources::Known { numbers, len } = self {
            let known = name.parse::<TrackSource>().ok();
            match known {
                Some(source) if usize::from(*len) < INLINE => {
                    numbers[usize::from(*len)] = source.number();
                    *len += 1;
                    return;
                }
                _ => *self = PublishSources::Names(self.iter().map(CompactString::from).collect()),
            }
        }
        if let PublishSources::Names(names) = self {
            names.push(CompactString::from(name));
        }
    }

    /// The names, in order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let (numbers, names): (&[u8], &[CompactString]) = match self {
            PublishSources::Known { numbers, len } => (&numbers[..usize::from(*len)], &[]),
            PublishSources::Names(names) => (&[], names),
        };
        let known = numbers
            .iter()
            .map(|&number| TrackSource::ALL[usize::from(number)].as_str());
        // One of the two is empty.
        Names {
            known,
            names: names.iter(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.iter().len() == 0
    }

    /// Whether `source`'s name is listed.
    pub(crate) fn contains(&self, source: TrackSource) -> bool {
        match self {
            PublishSources::Known { numbers, len } => {
                numbers[..usize::from(*len)].contains(&source.number())
            }
            PublishSources::Names(names) => names.iter().any(|name| name == source.as_str()),
        }
    }
}

/// [`PublishSources::iter`]: the known names, or the strings.
struct Names<'a, K> {
    known: K,
    names: std::slice::Iter<'a, CompactString>,
}

impl<'a, K: Iterator<Item = &'a str>> Iterator for Names<'a, K> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.known
            .next()
            .or_else(|| self.names.next().map(CompactString::as_str))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.known.size_hint().0 + self.names.len();
        (n, Some(n))
    }
}

impl<'a, K: Iterator<Item = &'a str>> ExactSizeIterator for Names<'a, K> {}

impl fmt::Debug for PublishSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for PublishSources {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names = self.iter();
        let mut seq = serializer.serialize_seq(Some(names.len()))?;
        for name in names {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

/// A JSON array of strings, as `Vec<String>` reads it.
impl<'de> Deserialize<'de> for PublishSources {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourcesVisitor;
        impl<'de> Visitor<'de> for SourcesVisitor {
            type Value = PublishSources;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of track source names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PublishSources, A::Error> {
                let mut list = PublishSources::default();
                while let Some(name) = seq.next_element::<Name<'de>>()? {
                    list.push(name.as_str());
                }
                Ok(list)
            }
        }
        deserializer.deserialize_seq(SourcesVisitor)
    }
}

/// One string of the list: borrowed from the input when it can be, copied when it had escapes.
enum Name<'de> {
    Borrowed(&'de str),
    Copied(CompactString),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Borrowed(name) => name,
            Name::Copied(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name::Copied(CompactString::from(v)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> PublishSources {
        serde_json::from_str(json).expect("a list of strings")
    }

    #[test]
    fn lists_keep_their_names_order_and_repeats() {
        for json in [
            r#"[]"#,
            r#"["camera","microphone"]"#,
            r#"["microphone","camera","camera"]"#,
            r#"["CAMERA","screen_share"]"#,
            r#"["screen_share","Camera"]"#,
            r#"["unknown","screen_share_audio"]"#,
            r#"["c\u0061mera"]"#,
        ] {
            let list = parse(json);
            let back = serde_json::to_string(&list).expect("serializes");
            let expected: Vec<String> = serde_json::from_str(json).expect("strings");
            assert_eq!(list.iter().collect::<Vec<_>>(), expected, "{json}");
            assert_eq!(
                back,
                serde_json::to_string(&expected).expect("json"),
                "{json}"
            );
        }
    }

    #[test]
    fn known_names_stay_inline_and_others_become_strings() {
        assert!(matches!(
            parse(r#"["camera","c\u0061mera"]"#),
            PublishSources::Known { len: 2, .. }
        ));
        assert!(matches!(parse(r#"["Camera"]"#), PublishSources::Names(_)));
        let many = format!("[{}]", vec![r#""camera""#; INLINE + 1].join(","));
        let list = parse(&many);
        assert!(matches!(list, PublishSources::Names(_)));
        assert_eq!(list.iter().len(), INLINE + 1);
        assert_eq!(
            parse(&format!("[{}]", vec![r#""camera""#; INLINE].join(","))),
            PublishSources::from_sources(vec![TrackSource::Camera; INLINE])
        );
    }

    #[test]
    fn contains_compares_exactly() {
        let list = parse(r#"["CAMERA","screen_share"]"#);
        assert!(!list.contains(TrackSource::Camera));
        assert!(list.contains(TrackSource::ScreenShare));
        assert!(parse(r#"["camera"]"#).contains(TrackSource::Camera));
        assert!(!parse(r#"[]"#).contains(TrackSource::Camera));
    }

    #[test]
    fn anything_but_a_list_of_strings_is_refused() {
        for json in [r#""camera""#, r#"[1]"#, r#"["camera",null]"#, r#"{}"#] {
            assert!(
                serde_json::from_str::<PublishSources>(json).is_err(),
                "{json}"
            );
        }
    }
}
