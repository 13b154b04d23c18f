//! JSON strings unescaped straight into their `CompactString`, without serde_json's scratch
//! buffer.
//!
//! serde_json unescapes a string that has escapes into a scratch `Vec` that it grows as it
//! goes: an allocation and reallocations per payload. `metadata` is JSON text, full of escaped
//! quotes, in nearly every SDK's token, so every verification paid them; and under glibc the
//! reallocations of a chunk run under the lock of the arena that first owned it, which made
//! two threads verifying with one verifier built on another thread scale 1.45x instead of
//! 1.9x (`BENCHMARKS.md`). The verifier reads those claims as serde_json's raw text instead
//! (validated by serde_json as a JSON string: escapes well formed, no control characters,
//! UTF-8) and unescapes it here into one allocation, with serde_json's rules: a lone or
//! unpaired surrogate escape is an error, as it is for serde_json reading a `String`. The
//! oracle tests below hold the two to the same answers.

use compact_str::CompactString;

/// Unescaped text up to this many bytes is built on the stack, then copied once into its
/// `CompactString` (inline, or one allocation of its exact size).
const STACK_TEXT: usize = 256;

/// The text of `raw`, a JSON string token with its quotes (`"a\"b"`), as serde_json's
/// `RawValue` holds one (serde_json has checked it: escapes well formed, no unescaped quote
/// or control character, UTF-8). `None` when it is not a string, or holds an escape serde_json
/// refuses in a string (a lone or unpaired surrogate). Any other input gives some answer and
/// never a panic.
pub(crate) fn unescape(raw: &str) -> Option<CompactString> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.as_bytes().contains(&b'\\') {
        return Some(CompactString::from(inner));
    }
    // The escaped form is never shorter than the text, so `inner.len()` bytes always suffice.
    if inner.len() <= STACK_TEXT {
        let mut stack = [0u8; STACK_TEXT];
        let len = unescape_into(inner.as_bytes(), &mut stack)?;
        std::str::from_utf8(&stack[..len])
            .ok()
            .map(CompactString::from)
    } else {
        let mut heap = vec![0u8; inner.len()];
        let len = unescape_into(inner.as_bytes(), &mut heap)?;
        heap.truncate(len);
        String::from_utf8(heap).ok().map(CompactString::from)
    }
}

/// Writes the unescaped `input` (a string token's bytes between the quotes) to the start of
/// `out`, and says how many bytes it wrote.
fn unescape_into(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let (mut read, mut written) = (0, 0);
    while let Some(at) = input[read..].iter().position(|&b| b == b'\\') {
        let run = &input[read..read + at];
        out.get_mut(written..written + run.len())?
            .copy_from_slice(run);
        written += run.len();
        read += at + 1;
        let escape = *input.get(read)?;
        read += 1;
        let ch = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex4(input.get(read..)?)?;
                read += 4;
                match unit {
                    0xD800..=0xDBFF => {
                        if input.get(read..read + 2)? != b"\\u" {
                            return None;
                        }
                        let low = hex4(input.get(read + 2..)?)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        read += 6;
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    0xDC00..=0xDFFF => return None,
                    unit => char::from_u32(unit)?,
                }
            }
            _ => return None,
        };
        let mut utf8 = [0u8; 4];
        let encoded = ch.encode_utf8(&mut utf8).as_bytes();
        out.get_mut(written..written + encoded.len())?
            .copy_from_slice(encoded);
        written += encoded.len();
    }
    let run = &input[read..];
    out.get_mut(written..written + run.len())?
        .copy_from_slice(run);
    Some(written + run.len())
}

/// The value of the four hex digits at the start of `digits`.
fn hex4(digits: &[u8]) -> Option<u32> {
    let mut unit = 0;
    for &digit in digits.get(..4)? {
        unit = unit * 16 + char::from(digit).to_digit(16)?;
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's answer for the same token, as a `String`.
    fn oracle(raw: &str) -> Option<String> {
        serde_json::from_str::<String>(raw).ok()
    }

    /// Whether serde_json would hand `raw` over as a raw value, the only input `unescape` gets.
    fn raw_value(raw: &str) -> bool {
        serde_json::from_str::<&serde_json::value::RawValue>(raw).is_ok()
    }

    fn agrees(raw: &str) {
        if raw_value(raw) {
            assert_eq!(
                unescape(raw).as_deref(),
                oracle(raw).as_deref(),
                "for the JSON token {raw:?}"
            );
        } else {
            assert_eq!(oracle(raw), None, "{raw:?}");
            let _ = unescape(raw); // no panic
        }
    }

    #[test]
    fn every_escape_and_surrogate_case_agrees_with_serde_json() {
        for raw in [
            r#""""#,
            r#""plain""#,
            r#""{\"lang\":\"de\",\"plan\":\"pro\"}""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u0000\u001f\u0041\u00e9\u20ac\uFFFF""#,
            r#""a\u0026b\u003cc\u003e""#,
            r#""\ud83d\ude00 smile""#,
            r#""\uD83D\uDE00""#,
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\n""#,
            r#""\ud83d\u0041""#,
            r#""\ud83d\ud83d""#,
            r#""\ude00""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\u+123""#,
            r#""\x41""#,
            r#""é\u00e9€""#,
            r#""ends with \\""#,
        ] {
            agrees(raw);
        }
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Random mixes of text, every escape, and surrogate halves in every order: the same
        /// text, or the same refusal, as serde_json.
        #[test]
        fn random_escapes_agree_with_serde_json(parts in proptest::collection::vec(
            proptest::prop_oneof![
                "[a-zA-Z0-9 {}:,é€😀\"\t]{0,4}",
                proptest::sample::select(vec![
                    r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\", r"\x", r"\u",
                ]).prop_map(str::to_owned),
                (0u32..=0xFFFF).prop_map(|unit| format!("\\u{unit:04x}")),
                (0xD800u32..=0xDFFF).prop_map(|unit| format!("\\u{unit:04X}")),
                "[0-9a-fA-FgG+]{0,4}",
            ],
            0..8,
        )) {
            let raw = format!("\"{}\"", parts.concat());
            let (ours, theirs) = (unescape(&raw), oracle(&raw));
            if raw_value(&raw) {
                proptest::prop_assert_eq!(ours.as_deref(), theirs.as_deref(), "{}", raw);
            }
        }

        /// Any text at all, valid token or not: an answer, never a panic.
        #[test]
        fn any_input_gives_an_answer_without_panicking(raw in "\\PC{0,40}") {
            let _ = unescape(&raw);
            let _ = unescape(&format!("\"{raw}\""));
        }
    }

    #[test]
    fn what_is_not_a_string_token_is_refused() {
        for raw in ["5", "null", "true", "{}", "[]", "\"", "", "'a'", "\"\\\""] {
            assert_eq!(unescape(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn text_serde_json_wrote_comes_back_whole() {
        for text in [
            "",
            "a\"b",
            "\u{0}\u{1f}\u{7f}",
            "\u{1F600}\\/",
            "{\"seat\":1}",
            "é€😀",
        ] {
            let raw = serde_json::to_string(text).expect("serializes");
            assert_eq!(unescape(&raw).as_deref(), Some(text), "{raw}");
        }
    }
}
