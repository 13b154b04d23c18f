//! A route's path template: literal segments and `{name}` parameters, matched against the
//! original path exactly or as a prefix of whole segments.
//!
//! Both sides are in the normal form of [`super::original`] (percent-encoded unreserved
//! characters decoded, other escapes in upper case), so that `/%72tc` is `/rtc` to a template
//! as it is to the server behind the proxy. A parameter matches one non-empty segment, as
//! `RoomFrom::template` and axum's router read it.

use std::fmt;

use tower_livekit_auth::middleware::RoomFrom;

use super::original::normalize_path;

/// A parsed path template.
#[derive(Clone)]
pub(crate) struct Template {
    /// The template as matched (normalized; a prefix template without its trailing slash).
    text: String,
    segments: Vec<Segment>,
    prefix: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter(String),
}

impl Template {
    /// Parses `text` (`/rooms/{room}/publish`); with `prefix`, it also matches every path below
    /// it (`/api` matches `/api`, `/api/` and `/api/x/y`, never `/apix`).
    pub(crate) fn parse(text: &str, prefix: bool) -> Result<Template, String> {
        if !text.starts_with('/') {
            return Err(format!("the path `{text}` must start with `/`"));
        }
        let mut body = &text[1..];
        if prefix && body.ends_with('/') {
            body = &body[..body.len() - 1];
        }
        let count = body.split('/').count();
        let mut segments = Vec::new();
        for (i, piece) in body.split('/').enumerate() {
            if piece.is_empty() && i + 1 < count {
                return Err(format!(
                    "the path `{text}` has an empty segment (`//`), which no request reaches"
                ));
            }
            segments.push(segment(piece, text)?);
        }
        let text = segments.iter().fold(String::new(), |mut text, segment| {
            text.push('/');
            match segment {
                Segment::Literal(literal) => text.push_str(literal),
                Segment::Parameter(name) => {
                    text.push('{');
                    text.push_str(name);
                    text.push('}');
                }
            }
            text
        });
        let mut names: Vec<&str> = segments
            .iter()
            .filter_map(|segment| match segment {
                Segment::Parameter(name) => Some(name.as_str()),
                Segment::Literal(_) => None,
            })
            .collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(format!(
                "the path `{text}` has the parameter `{{{}}}` twice",
                pair[0]
            ));
        }
        Ok(Template {
            text,
            segments,
            prefix,
        })
    }

    /// Whether `path` (normalized, starting with `/`) matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let mut path_segments = path.strip_prefix('/').unwrap_or(path).split('/');
        if self.prefix && self.text == "/" {
            return true;
        }
        for pattern in &self.segments {
            let Some(segment) = path_segments.next() else {
                return false;
            };
            let matched = match pattern {
                Segment::Literal(literal) => literal == segment,
                Segment::Parameter(_) => !segment.is_empty(),
            };
            if !matched {
                return false;
            }
        }
        self.prefix || path_segments.next().is_none()
    }

    /// Whether the template has the parameter `{name}`.
    pub(crate) fn has_parameter(&self, name: &str) -> bool {
        self.segments
            .iter()
            .any(|segment| *segment == Segment::Parameter(name.to_owned()))
    }

    /// The library's reader of the `{room}` parameter for this template (`None` without one):
    /// `RoomFrom::template` of the very template matched, and for a prefix template, of the
    /// same with the rest of the path after it.
    pub(crate) fn room_from(&self) -> Option<RoomFrom> {
        if !self.has_parameter("room") {
            return None;
        }
        let exact = RoomFrom::template(&self.text);
        if !self.prefix {
            return Some(exact);
        }
        let below = RoomFrom::template(&format!("{}/{{*rest}}", self.text));
        Some(RoomFrom::function(move |head| {
            exact
                .room(head)
                .or_else(|| below.room(head))
                .map(std::borrow::Cow::into_owned)
        }))
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.prefix { "prefix" } else { "exact" };
        write!(f, "{} ({kind})", self.text)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn segment(piece: &str, text: &str) -> Result<Segment, String> {
    if let Some(inner) = piece.strip_prefix('{') {
        let name = inner
            .strip_suffix('}')
            .ok_or_else(|| format!("the path `{text}` has an unclosed `{{` in `{piece}`"))?;
        if name.starts_with('*') {
            return Err(format!(
                "the path `{text}` has `{piece}`: write the path without it and `match: prefix`"
            ));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "the path `{text}` has the parameter `{piece}`: a name is letters, digits and `_`"
            ));
        }
        return Ok(Segment::Parameter(name.to_owned()));
    }
    if piece.contains(['{', '}']) {
        return Err(format!(
            "the path `{text}` has `{piece}`: a parameter is a whole segment, `{{name}}`"
        ));
    }
    if let Some(bad) = piece.chars().find(|&c| !is_path_char(c)) {
        return Err(format!(
            "the path `{text}` has the character {bad:?}, which a URI path cannot hold: \
             percent-encode it"
        ));
    }
    // The literal in the normal form requests are brought to; a dot segment is refused there.
    let path = format!("/{piece}");
    let normalized =
        normalize_path(&path).map_err(|why| format!("the path `{text}` is not usable: {why}"))?;
    Ok(Segment::Literal(normalized[1..].to_owned()))
}

/// RFC 3986 `pchar` (and `%`, whose escapes `normalize_path` checked).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(text: &str) -> Template {
        Template::parse(text, false).expect("a template")
    }

    fn prefix(text: &str) -> Template {
        Template::parse(text, true).expect("a template")
    }

    #[test]
    fn exact_templates_match_whole_paths_and_parameters_one_non_empty_segment() {
        let t = exact("/rooms/{room}/publish");
        assert!(t.matches("/rooms/a/publish"));
        assert!(t.matches("/rooms/a%2Fb/publish"));
        for path in [
            "/rooms//publish",
            "/rooms/a/publish/",
            "/rooms/a",
            "/rooms/a/publish/x",
        ] {
            assert!(!t.matches(path), "{path}");
        }
        assert!(exact("/").matches("/"));
        assert!(!exact("/").matches("/x"));
        assert!(exact("/rtc").matches("/rtc"));
        assert!(!exact("/rtc").matches("/rtc/"));
        assert!(!exact("/rtc").matches("/rtcx"));
    }

    #[test]
    fn prefix_templates_match_whole_segments_below_them() {
        let t = prefix("/api/");
        for path in ["/api", "/api/", "/api/x", "/api/x/y"] {
            assert!(t.matches(path), "{path}");
        }
        assert!(!t.matches("/apix"));
        assert!(!t.matches("/"));
        assert!(prefix("/").matches("/anything/at/all"));
        let rooms = prefix("/rooms/{room}");
        assert!(rooms.matches("/rooms/r/tracks/t"));
        assert!(!rooms.matches("/rooms/"));
    }

    #[test]
    fn literals_are_normalized_like_paths() {
        assert!(exact("/%72tc").matches("/rtc"));
        assert_eq!(exact("/a%2fb").to_string(), "/a%2Fb");
    }

    #[test]
    fn bad_templates_say_what_to_write() {
        for (text, says) in [
            ("rtc", "must start with `/`"),
            ("/rooms/{room", "unclosed"),
            ("/files/{*rest}", "match: prefix"),
            ("/a/{}", "a name is"),
            ("/a/x{room}", "a whole segment"),
            ("/a/{room}/{room}", "twice"),
            ("/a b", "percent-encode"),
            ("/a/../b", "dot segment"),
            ("/a//b", "empty segment"),
        ] {
            let err = Template::parse(text, false).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn the_room_comes_from_the_librarys_reader_of_the_same_template() {
        use tower_livekit_auth::middleware::RequestHead;
        let room = |template: &Template, path: &str| {
            let request = http::Request::get(path).body(()).expect("request");
            let from = template.room_from().expect("a {room}");
            from.room(&RequestHead::from_request(&request))
                .map(|room| room.into_owned())
        };
        let t = exact("/rooms/{room}/kick");
        assert_eq!(
            room(&t, "/rooms/my%20room/kick").as_deref(),
            Some("my room")
        );
        let p = prefix("/rooms/{room}");
        assert_eq!(room(&p, "/rooms/r").as_deref(), Some("r"));
        assert_eq!(room(&p, "/rooms/r/tracks/t").as_deref(), Some("r"));
        assert!(exact("/rooms/{name}").room_from().is_none());
    }
}
