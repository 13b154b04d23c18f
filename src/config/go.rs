//! How `livekit-server`, a Go program, reads scalars: the integers, booleans and durations of its
//! environment variables (Go's `strconv`, through urfave/cli) and of its YAML (gopkg.in/yaml.v3,
//! which resolves a plain integer with `strconv.ParseInt(s, 0, 64)` after dropping `_`), and the
//! expansion of `$VAR` and `~` in `key_file` (`os.ExpandEnv`, go-homedir's `Expand`).
//!
//! Written from the Go documentation and sources named on each function; no Go code is copied.

/// Go's `strconv.ParseInt(s, 0, 64)` (`signed`) or `strconv.ParseUint(s, 0, 64)`: an optional
/// sign (signed only), then `0x`/`0X` hexadecimal, `0b`/`0B` binary, `0o`/`0O` or a leading `0`
/// octal, otherwise decimal; `_` only between digits (or after a base prefix). `None` when `s`
/// is not such a number or does not fit in 64 bits.
pub(super) fn parse_int(s: &str, signed: bool) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'+') if signed => (false, &s[1..]),
        Some(b'-') if signed => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(unsigned)?;
    if negative {
        let value = -i128::from(magnitude);
        (value >= i128::from(i64::MIN)).then_some(value)
    } else if signed {
        (magnitude <= i64::MAX as u64).then_some(i128::from(magnitude))
    } else {
        Some(i128::from(magnitude))
    }
}

/// `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let bytes = s.as_bytes();
    let (radix, digits) = if bytes[0] == b'0' && bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'x' => (16, &s[2..]),
            b'b' => (2, &s[2..]),
            b'o' => (8, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else if bytes[0] == b'0' {
        // "0" alone is zero; "0x" or "0b" without digits is octal and fails below.
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut value: u64 = 0;
    let mut underscores = false;
    for c in digits.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let digit = u64::from(c.to_digit(radix)?);
        value = value.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    if underscores && !underscores_between_digits(s) {
        return None;
    }
    Some(value)
}

/// Go's rule for `_` in a base-0 number: each one between two digits, or between the base
/// prefix and a digit.
fn underscores_between_digits(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (mut i, hex) = if bytes.len() >= 2
        && bytes[0] == b'0'
        && matches!(bytes[1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        (2, bytes[1].eq_ignore_ascii_case(&b'x'))
    } else {
        (0, false)
    };
    // What came last: a digit (or the prefix, which counts as one), an underscore, or nothing.
    let mut last_digit = i == 2;
    let mut last_underscore = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            last_digit = true;
            last_underscore = false;
        } else if c == b'_' {
            if !last_digit {
                return false;
            }
            last_digit = false;
            last_underscore = true;
        } else {
            if last_underscore {
                return false;
            }
            last_digit = false;
        }
        i += 1;
    }
    !last_underscore
}

/// A plain YAML scalar that gopkg.in/yaml.v3 resolves as an integer (`resolve.go`): it starts
/// with a digit or a sign, and with every `_` removed it parses as `strconv.ParseInt(s, 0, 64)`,
/// or else `ParseUint`.
pub(super) fn parse_yaml_int(s: &str) -> Option<i128> {
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return None;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    parse_int(&plain, true).or_else(|| parse_int(&plain, false))
}

/// Go's `strconv.ParseBool`.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// What gopkg.in/yaml.v3 accepts for a `bool` field besides a YAML boolean: YAML 1.1's words
/// (`decode.go`: "compatibility with the 1.1 spec", for typed bools only).
pub(super) fn parse_yaml_bool_word(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

/// Go's `time.ParseDuration`, in nanoseconds: a possibly signed sequence of decimal numbers,
/// each with an optional fraction and a unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`),
/// such as `300ms`, `1.5h` or `2h45m`; `0` alone needs no unit. `None` when `s` is not one or
/// overflows an `i64` of nanoseconds.
pub(super) fn parse_duration(s: &str) -> Option<i64> {
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let len = after_dot
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_dot.len());
            fraction = &after_dot[..len];
            rest = &after_dot[len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return None; // no digits: ".s", "s", "."
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let nanos_per_unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None, // a missing or unknown unit
        };
        rest = &rest[unit_len..];
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        // Go keeps the digits of a fraction that fit and drops the rest: 19 is plenty for
        // nanoseconds of any unit up to an hour.
        let kept = &fraction[..fraction.len().min(19)];
        let fraction_nanos = if kept.is_empty() {
            0
        } else {
            kept.parse::<u128>().ok()? * nanos_per_unit / 10u128.pow(kept.len() as u32)
        };
        total = total
            .checked_add(whole.checked_mul(nanos_per_unit)?)?
            .checked_add(fraction_nanos)?;
        if total > 1u128 << 63 {
            return None;
        }
    }
    if negative {
        i64::try_from(-(total as i128)).ok()
    } else {
        i64::try_from(total).ok()
    }
}

/// Go's `os.Expand(s, lookup)`, which `os.ExpandEnv` is: `$NAME` (letters, digits, `_`), `${NAME}`,
/// and the one-character shell names (`$1`, `$$`, `${*}`, ...) are replaced by their value, or by
/// nothing when unset; `${}` and an unclosed `${` are dropped; a `$` before anything else stays.
pub(super) fn expand_env(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    fn special(c: u8) -> bool {
        matches!(
            c,
            b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
        )
    }
    fn name_char(c: u8) -> bool {
        c == b'_' || c.is_ascii_alphanumeric()
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0; // bytes of `s` before this index are in `out`
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 == bytes.len() {
            i += 1;
            continue;
        }
        out.push_str(&s[copied..i]);
        let after = &s[i + 1..];
        let tail = after.as_bytes();
        // (the name, or None for "leave the dollar", and how many bytes after `$` it took)
        let (name, consumed): (Option<&str>, usize) = if tail[0] == b'{' {
            if tail.len() > 2 && special(tail[1]) && tail[2] == b'}' {
                (Some(&after[1..2]), 3)
            } else {
                match after[1..].find('}') {
                    Some(0) => (Some(""), 2),                      // "${}": dropped
                    Some(end) => (Some(&after[1..=end]), end + 2), // "${NAME}"
                    None => (Some(""), 1),                         // "${" unclosed: dropped
                }
            }
        } else if special(tail[0]) {
            (Some(&after[..1]), 1)
        } else {
            let len = tail.iter().take_while(|&&c| name_char(c)).count();
            if len == 0 {
                (None, 0)
            } else {
                (Some(&after[..len]), len)
            }
        };
        match name {
            None => out.push('$'),
            Some("") => {}
            Some(name) => out.push_str(&lookup(name).unwrap_or_default()),
        }
        i += 1 + consumed;
        copied = i;
    }
    if copied == 0 {
        return s.to_owned();
    }
    out.push_str(&s[copied..]);
    out
}

/// go-homedir's `Expand`: a leading `~` alone or followed by `/` (or `\`) becomes the home
/// directory, read from `HOME` (go-homedir also asks the password database when `HOME` is
/// empty; this takes `HOME` only, so that the environment stays injectable). `~user` is an
/// error, as in go-homedir.
pub(super) fn expand_home(
    path: String,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, &'static str> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path);
    };
    if !(rest.is_empty() || rest.starts_with(['/', '\\'])) {
        return Err("`~user` is not expanded (only `~` or `~/...`, as livekit-server does)");
    }
    let home = lookup("HOME")
        .filter(|home| !home.is_empty())
        .ok_or("it starts with `~` and HOME is not set")?;
    // go-homedir joins with filepath.Join, which drops the slashes between the two.
    let home = match home.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let rest = rest.trim_start_matches(['/', '\\']);
    if rest.is_empty() {
        return Ok(home.to_owned());
    }
    Ok(format!("{}/{rest}", home.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_read_as_go_strconv_reads_them_with_base_zero() {
        for (text, value) in [
            ("0", 0),
            ("42", 42),
            ("+42", 42),
            ("-42", -42),
            ("0x1F", 31),
            ("0X1f", 31),
            ("0b101", 5),
            ("0o17", 15),
            ("017", 15),
            ("1_000", 1000),
            ("0x_1F", 31),
            ("9223372036854775807", i64::MAX as i128),
            ("-9223372036854775808", i64::MIN as i128),
        ] {
            assert_eq!(parse_int(text, true), Some(value), "{text}");
        }
        for text in [
            "",
            "+",
            "abc",
            "0x",
            "08",
            "1__0",
            "_1",
            "1_",
            "1.5",
            " 1",
            "9223372036854775808",
        ] {
            assert_eq!(parse_int(text, true), None, "{text}");
        }
        assert_eq!(
            parse_int("18446744073709551615", false),
            Some(u64::MAX as i128)
        );
        assert_eq!(parse_int("+1", false), None, "ParseUint takes no sign");
        assert_eq!(parse_int("-1", false), None);
    }

    #[test]
    fn yaml_integers_drop_every_underscore_as_yaml_v3_does() {
        assert_eq!(parse_yaml_int("1_000_000"), Some(1_000_000));
        assert_eq!(parse_yaml_int("1__0_"), Some(10));
        assert_eq!(
            parse_yaml_int("010"),
            Some(8),
            "YAML 1.1 octal, kept by yaml.v3"
        );
        assert_eq!(
            parse_yaml_int("18446744073709551615"),
            Some(u64::MAX as i128)
        );
        assert_eq!(parse_yaml_int("_1"), None, "a string to yaml.v3");
        assert_eq!(parse_yaml_int("ten"), None);
    }

    #[test]
    fn booleans_are_go_parse_bool_and_yaml_v3_words() {
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None, "strconv.ParseBool refuses yes");
        assert_eq!(parse_yaml_bool_word("yes"), Some(true));
        assert_eq!(parse_yaml_bool_word("Off"), Some(false));
        assert_eq!(
            parse_yaml_bool_word("1"),
            None,
            "yaml.v3 refuses 1 for a bool"
        );
    }

    #[test]
    fn durations_are_go_parse_duration() {
        const MS: i64 = 1_000_000;
        for (text, nanos) in [
            ("0", 0),
            ("4s", 4_000 * MS),
            ("500ms", 500 * MS),
            ("1.5s", 1_500 * MS),
            (".5s", 500 * MS),
            ("5.s", 5_000 * MS),
            ("2h45m", (2 * 3600 + 45 * 60) * 1_000 * MS),
            ("1us", 1_000),
            ("1\u{b5}s", 1_000),
            ("1\u{3bc}s", 1_000),
            ("3ns", 3),
            ("-1s", -1_000 * MS),
            ("+1s", 1_000 * MS),
            ("1.0000000001s", 1_000_000_000),
        ] {
            assert_eq!(parse_duration(text), Some(nanos), "{text}");
        }
        for text in [
            "", "5", "s", ".s", "1x", "1 s", "1s ", "-", "3000000h", "1.s.5",
        ] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
    }

    #[test]
    fn dollar_names_expand_as_go_expand_env_does() {
        let env = |name: &str| match name {
            "HOME" => Some("/home/lk".to_owned()),
            "DIR" => Some("keys".to_owned()),
            "1" => Some("one".to_owned()),
            _ => None,
        };
        for (text, expanded) in [
            ("$HOME/keys.yaml", "/home/lk/keys.yaml"),
            ("${HOME}/$DIR.yaml", "/home/lk/keys.yaml"),
            ("/etc/$UNSET/k", "/etc//k"),
            ("a$1b", "aoneb"),
            ("${1}", "one"),
            ("cost$", "cost$"),
            ("a$/b", "a$/b"),
            ("a${}b", "ab"),
            ("a${HOME", "aHOME"),
            ("plain", "plain"),
        ] {
            assert_eq!(expand_env(text, &env), expanded, "{text}");
        }
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let env = |name: &str| (name == "HOME").then(|| "/home/lk/".to_owned());
        assert_eq!(
            expand_home("~/keys.yaml".into(), &env).as_deref(),
            Ok("/home/lk/keys.yaml")
        );
        assert_eq!(expand_home("~".into(), &env).as_deref(), Ok("/home/lk"));
        assert_eq!(expand_home("/k~".into(), &env).as_deref(), Ok("/k~"));
        assert!(expand_home("~bob/keys".into(), &env).is_err());
        assert!(expand_home("~/keys".into(), &|_: &str| None).is_err());
    }
}
