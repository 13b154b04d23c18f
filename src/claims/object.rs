//! [`Object`]: a JSON object and nothing else.
//!
//! serde's derived `Deserialize` for a struct also accepts a JSON array, reading the fields by
//! position: `"video":[true,true]` would become `roomCreate` and `roomList`. No LiveKit
//! implementation reads grants that way (Go's `encoding/json` refuses), so every grant and
//! nested message is read through this wrapper, which refuses anything but an object.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// `T`, read only from a JSON object.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

/// For `#[serde(deserialize_with)]`: a list of objects, `null` being empty.
pub(crate) fn object_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list = Option::<Vec<Object<T>>>::deserialize(deserializer)?;
    Ok(list
        .into_iter()
        .flatten()
        .map(|Object(item)| item)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SipGrant;

    #[test]
    fn arrays_are_not_objects() {
        assert!(serde_json::from_str::<Object<SipGrant>>("[true]").is_err());
        assert!(serde_json::from_str::<Object<SipGrant>>("[]").is_err());
        let Object(grant) =
            serde_json::from_str::<Object<SipGrant>>(r#"{"admin":true}"#).expect("object");
        assert_eq!(grant.admin, Some(true));
    }
}
