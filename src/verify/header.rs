//! The JOSE header check: HS256 only, no `crit`, no repeated keys.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::error::{VerifyError, VerifyErrorKind};
use crate::jws::{self, KNOWN_HS256_HEADERS};

/// Headers longer than this are not something any LiveKit SDK writes; they are refused before
/// decoding.
const MAX_HEADER_LEN: usize = 1024;

/// Accepts the header segment if it announces HS256 and nothing this crate cannot honour. The
/// headers the SDKs (and the crate's own minting) write are recognized without decoding.
pub(super) fn check(segment: &[u8]) -> Result<(), VerifyError> {
    if KNOWN_HS256_HEADERS.contains(&segment) {
        return Ok(());
    }
    if segment.len() > MAX_HEADER_LEN {
        return Err(VerifyError::malformed("the header is too long"));
    }
    let mut buffer = [0u8; MAX_HEADER_LEN];
    let json = jws::decode(segment, &mut buffer).ok_or(VerifyError::malformed(
        "the header is not base64url without padding",
    ))?;
    let mut outcome = None;
    let mut de = serde_json::Deserializer::from_slice(json);
    let parsed = HeaderSeed {
        outcome: &mut outcome,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (parsed, outcome) {
        (Ok(()), Some(HeaderOutcome::Hs256)) => Ok(()),
        (Ok(()), None) => Err(VerifyError::malformed("the header has no `alg`")),
        (_, Some(HeaderOutcome::OtherAlgorithm)) => {
            Err(VerifyError::new(VerifyErrorKind::UnsupportedAlgorithm))
        }
        (_, Some(HeaderOutcome::Critical)) => Err(VerifyError::malformed(
            "the header has `crit`, naming extensions this verifier does not implement",
        )),
        (_, Some(HeaderOutcome::Repeated)) => {
            Err(VerifyError::malformed("the header repeats a key"))
        }
        (Err(_), _) => Err(VerifyError::malformed("the header is not a JSON object")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderOutcome {
    Hs256,
    OtherAlgorithm,
    Critical,
    Repeated,
}

struct HeaderSeed<'a> {
    outcome: &'a mut Option<HeaderOutcome>,
}

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum HeaderKey {
    Alg,
    Crit,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut alg_seen = false;
        while let Some(key) = map.next_key::<HeaderKey>()? {
            match key {
                HeaderKey::Alg => {
                    if alg_seen {
                        *self.outcome = Some(HeaderOutcome::Repeated);
                        return Err(de::Error::custom("repeated alg"));
                    }
                    alg_seen = true;
                    // Any value that is not exactly the string "HS256" (`none`, `hs256`, a
                    // number) is an algorithm this verifier does not implement.
                    let alg = map.next_value::<serde_json::Value>()?;
                    *self.outcome = Some(if alg == "HS256" {
                        HeaderOutcome::Hs256
                    } else {
                        HeaderOutcome::OtherAlgorithm
                    });
                }
                HeaderKey::Crit => {
                    *self.outcome = Some(HeaderOutcome::Critical);
                    return Err(de::Error::custom("crit"));
                }
                HeaderKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if *self.outcome == Some(HeaderOutcome::OtherAlgorithm) {
            return Err(de::Error::custom("unsupported alg"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    fn header(json: &str) -> Result<(), VerifyError> {
        check(URL_SAFE_NO_PAD.encode(json).as_bytes())
    }

    #[test]
    fn other_hs256_headers_take_the_slow_path_and_pass() {
        assert_eq!(header(r#"{"kid":"k1","alg":"HS256"}"#), Ok(()));
        assert_eq!(header(r#"{ "alg" : "HS256" , "jku":"https://x" }"#), Ok(()));
    }

    #[test]
    fn other_algorithms_are_unsupported() {
        for alg in [
            r#""none""#,
            r#""None""#,
            r#""HS384""#,
            r#""HS512""#,
            r#""RS256""#,
            r#""hs256""#,
            "256",
            "null",
        ] {
            let err = header(&format!(r#"{{"alg":{alg},"typ":"JWT"}}"#)).expect_err(alg);
            assert_eq!(err.kind(), VerifyErrorKind::UnsupportedAlgorithm, "{alg}");
        }
    }

    #[test]
    fn crit_repeats_and_non_objects_are_malformed() {
        for json in [
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","alg":"HS256"}"#,
            r#"{"alg":"none","alg":"HS256"}"#,
            r#"{"typ":"JWT"}"#,
            r#"["alg","HS256"]"#,
            r#"{"alg":"HS256"} x"#,
            "",
        ] {
            let err = header(json).expect_err(json);
            assert_eq!(err.kind(), VerifyErrorKind::Malformed, "{json}");
        }
        assert_eq!(
            check(b"eyJ=").map_err(|e| e.kind()),
            Err(VerifyErrorKind::Malformed)
        );
    }
}
