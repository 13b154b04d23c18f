//! The gate's policy: a route table read from YAML (a file, or the built-in preset), each
//! route a path template, its methods, the requirements a token must meet, and whether the
//! token may come in the query.
//!
//! ```yaml
//! default: deny              # a path no route matches: deny (403) or allow_authenticated
//! routes:                    # the first route whose path and method match decides
//!   - path: /rtc             # exact by default
//!     require: join
//!     query_token: true      # ?access_token= read where there is no Authorization header
//!   - path: /rooms/{room}/kick
//!     methods: [POST]        # any method when absent
//!     require: room_admin    # room admin of the room the path names
//!   - path: /media/{room}
//!     match: prefix          # also /media/{room}/anything/below
//!     require: [join, {publish: camera}]   # every one, in order
//! ```
//!
//! Every key is checked: an unknown one (`requires:`), a missing `require:`, an unknown
//! requirement or a template the gate cannot match is an error naming the route and, where
//! the YAML reader knows it, the line and column. A policy never half-loads.

use std::fmt;
use std::path::Path;

use http::Method;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use tower_livekit_auth::middleware::RequiredGrant;
use tower_livekit_auth::TrackSource;

use super::template::Template;

/// The requirements a route can put on a token: the library's own grants (`RequiredGrant`,
/// what `RequireLayer`'s constructors enforce) and room admin of a `RoomFrom` template, plus
/// `public`, `authenticated`, `token_room_admin` and `agent`, each enforced by a
/// `RequireLayer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// No token needed; a token that is there must verify (its identity headers are sent).
    Public,
    /// Any valid token.
    Authenticated,
    /// One of the library's grants: `RequireLayer::new(grant)` (`join`, `create_rooms`, ...,
    /// `{publish: SOURCE}`).
    Grant(RequiredGrant),
    /// `RequireLayer::room_admin` of the path's `{room}`.
    RoomAdmin,
    /// Room admin of the token's own room: for calls that name their room in the body, which
    /// the gate never sees (LiveKit checks that the body names that room).
    TokenRoomAdmin,
    /// The `video.agent` grant, as LiveKit's `/agent` worker endpoint checks it.
    Agent,
}

/// The names a policy file uses, in the order the docs list them.
const NAMES: &[(&str, Requirement)] = &[
    ("public", Requirement::Public),
    ("authenticated", Requirement::Authenticated),
    ("join", Requirement::Grant(RequiredGrant::Join)),
    ("room_admin", Requirement::RoomAdmin),
    ("token_room_admin", Requirement::TokenRoomAdmin),
    (
        "create_rooms",
        Requirement::Grant(RequiredGrant::CreateRooms),
    ),
    ("list_rooms", Requirement::Grant(RequiredGrant::ListRooms)),
    ("record", Requirement::Grant(RequiredGrant::Record)),
    (
        "ingress_admin",
        Requirement::Grant(RequiredGrant::IngressAdmin),
    ),
    ("sip_admin", Requirement::Grant(RequiredGrant::SipAdmin)),
    ("sip_call", Requirement::Grant(RequiredGrant::SipCall)),
    ("agent", Requirement::Agent),
];

const EXPECTED_REQUIREMENT: &str = "one of public, authenticated, join, room_admin, \
     token_room_admin, create_rooms, list_rooms, record, ingress_admin, sip_admin, sip_call, \
     agent, or {publish: SOURCE}";

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Grant(RequiredGrant::Publish(source)) => {
                write!(f, "{{publish: {source}}}")
            }
            other => {
                let name = NAMES
                    .iter()
                    .find(|(_, r)| r == other)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

/// What a path no route matches gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DefaultRule {
    /// 403, whatever the token.
    #[default]
    Deny,
    /// Any valid token (header only).
    AllowAuthenticated,
}

/// One route of the table.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) template: Template,
    /// `None`: any method.
    pub(crate) methods: Option<Vec<Method>>,
    pub(crate) require: Vec<Requirement>,
    pub(crate) query_token: bool,
}

impl Route {
    /// Whether this route decides a request of `method` to `path` (normalized).
    pub(crate) fn matches(&self, method: &Method, path: &str) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|methods| methods.contains(method))
            && self.template.matches(path)
    }
}

/// A policy: the routes in order, and the default. See the [module docs](self) for the
/// format.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) routes: Vec<Route>,
    pub(crate) default: DefaultRule,
}

/// A policy that cannot be used, and why: the route, the key and, where known, the line.
#[derive(Debug)]
pub struct PolicyError(String);

impl PolicyError {
    pub(crate) fn new(message: String) -> Self {
        PolicyError(message)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Reads a policy's YAML text; `origin` names it in errors (`the policy file x.yaml`).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy =
            serde_norway::from_str(text).map_err(|err| PolicyError(format!("{origin}: {err}")))?;
        let routes = raw
            .routes
            .into_iter()
            .enumerate()
            .map(|(index, raw)| {
                raw.route().map_err(|err| {
                    PolicyError(format!(
                        "{origin}: routes[{index}] (path `{}`): {}",
                        err.path, err.why
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            routes,
            default: raw.default,
        })
    }

    /// Reads a policy file.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let origin = format!("the policy file {}", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|err| PolicyError(format!("cannot read {origin}: {err}")))?;
        Policy::from_yaml(&text, &origin)
    }

    /// `N routes, default deny`, for the start-up message.
    #[must_use]
    pub fn summary(&self) -> String {
        let default = match self.default {
            DefaultRule::Deny => "deny (403)",
            DefaultRule::AllowAuthenticated => "allow_authenticated",
        };
        format!("{} routes, default {default}", self.routes.len())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    default: DefaultRule,
    routes: Vec<RawRoute>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum MatchKind {
    #[default]
    Exact,
    Prefix,
}

/// A route as written, each key checked on its own while it is read (so that serde_norway
/// names its line); [`RawRoute::route`] checks them together.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    path: PathText,
    #[serde(default, rename = "match")]
    match_kind: MatchKind,
    methods: Option<Methods>,
    require: RequireList,
    #[serde(default)]
    query_token: bool,
}

/// The route's failure, with its path for the message.
struct RouteError {
    path: String,
    why: String,
}

impl RawRoute {
    fn route(self) -> Result<Route, RouteError> {
        let RawRoute {
            path: PathText(path),
            match_kind,
            methods,
            require: RequireList(require),
            query_token,
        } = self;
        let fail = |why: String| RouteError {
            path: path.clone(),
            why,
        };
        let template =
            Template::parse(&path, matches!(match_kind, MatchKind::Prefix)).map_err(fail)?;
        if require.contains(&Requirement::RoomAdmin) && !template.has_parameter("room") {
            return Err(fail(String::from(
                "`room_admin` is admin of the room the path names, and the path has no `{room}` \
                 segment: add one, or use `token_room_admin` for a room named elsewhere (the body)",
            )));
        }
        Ok(Route {
            template,
            methods: methods.map(|Methods(methods)| methods),
            require,
            query_token,
        })
    }
}

/// `path:`, checked as a template when read.
struct PathText(String);

impl<'de> Deserialize<'de> for PathText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PathText, D::Error> {
        let text = String::deserialize(deserializer)?;
        Template::parse(&text, false).map_err(de::Error::custom)?;
        Ok(PathText(text))
    }
}

/// `methods:`, each an HTTP method (any case), at least one.
struct Methods(Vec<Method>);

impl<'de> Deserialize<'de> for Methods {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Methods, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        if names.is_empty() {
            return Err(de::Error::custom(
                "`methods` is empty: list methods, or leave the key out for any method",
            ));
        }
        names
            .iter()
            .map(|name| {
                Method::from_bytes(name.to_ascii_uppercase().as_bytes())
                    .map_err(|_| de::Error::custom(format!("`{name}` is not an HTTP method")))
            })
            .collect::<Result<_, _>>()
            .map(Methods)
    }
}

/// `require:`: one requirement, or a list of them.
struct RequireList(Vec<Requirement>);

impl<'de> Deserialize<'de> for RequireList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RequireList, D::Error> {
        let list = deserializer.deserialize_any(RequireVisitor { list: true })?;
        if list.0.is_empty() {
            return Err(de::Error::custom(
                "`require` is empty: name a requirement (`authenticated` for any valid token, \
                 `public` for none)",
            ));
        }
        if list.0.contains(&Requirement::Public) && list.0.len() > 1 {
            return Err(de::Error::custom(
                "`public` cannot be combined with other requirements",
            ));
        }
        Ok(list)
    }
}

struct One(Requirement);

impl<'de> Deserialize<'de> for One {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<One, D::Error> {
        let list = deserializer.deserialize_any(RequireVisitor { list: false })?;
        Ok(One(list.0[0]))
    }
}

struct RequireVisitor {
    list: bool,
}

impl<'de> Visitor<'de> for RequireVisitor {
    type Value = RequireList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED_REQUIREMENT)?;
        if self.list {
            f.write_str(", or a list of them")?;
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<RequireList, E> {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, requirement)| RequireList(vec![*requirement]))
            .ok_or_else(|| {
                E::custom(format!(
                    "unknown requirement `{name}`: expected {EXPECTED_REQUIREMENT}"
                ))
            })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequireList, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "an empty map is no requirement: expected {EXPECTED_REQUIREMENT}"
            )));
        };
        if key != "publish" {
            return Err(de::Error::custom(format!(
                "unknown requirement `{key}:`; the one with a value is `publish: SOURCE`"
            )));
        }
        let source: String = map.next_value()?;
        let source = source
            .parse::<TrackSource>()
            .map_err(|err| de::Error::custom(format!("`publish: {source}`: {err}")))?;
        if map.next_key::<String>()?.is_some() {
            return Err(de::Error::custom(
                "one requirement per map: write a list for several, `[join, {publish: camera}]`",
            ));
        }
        Ok(RequireList(vec![Requirement::Grant(
            RequiredGrant::Publish(source),
        )]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RequireList, A::Error> {
        if !self.list {
            return Err(de::Error::custom("a list inside a list of requirements"));
        }
        let mut all = Vec::new();
        while let Some(One(requirement)) = seq.next_element()? {
            all.push(requirement);
        }
        Ok(RequireList(all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, String> {
        Policy::from_yaml(text, "the policy").map_err(|err| err.to_string())
    }

    #[test]
    fn a_policy_reads_every_key() {
        let policy = parse(
            "default: allow_authenticated\n\
             routes:\n\
             - path: /rtc\n  require: join\n  query_token: true\n\
             - path: /rooms/{room}/kick\n  methods: [post, DELETE]\n  require: room_admin\n\
             - path: /media/{room}\n  match: prefix\n  require: [join, {publish: camera}]\n\
             - path: /\n  require: public\n",
        )
        .expect("valid");
        assert_eq!(policy.default, DefaultRule::AllowAuthenticated);
        assert_eq!(policy.routes.len(), 4);
        let kick = &policy.routes[1];
        assert_eq!(
            kick.methods.as_deref(),
            Some(&[Method::POST, Method::DELETE][..])
        );
        assert!(kick.matches(&Method::POST, "/rooms/r/kick"));
        assert!(!kick.matches(&Method::GET, "/rooms/r/kick"));
        assert_eq!(
            policy.routes[2].require,
            [
                Requirement::Grant(RequiredGrant::Join),
                Requirement::Grant(RequiredGrant::Publish(TrackSource::Camera))
            ]
        );
        assert!(policy.routes[2].matches(&Method::GET, "/media/r/x.m3u8"));
        assert!(policy.routes[0].query_token && !kick.query_token);
        assert_eq!(
            parse("routes: []").expect("empty").default,
            DefaultRule::Deny
        );
    }

    #[test]
    fn bad_policies_name_the_route_the_key_and_the_line() {
        for (text, says) in [
            (
                "routes:\n- path: /a\n  requires: join\n",
                "unknown field `requires`",
            ),
            ("routes:\n- path: /a\n", "missing field `require`"),
            (
                "routes:\n- path: /a\n  require: joni\n",
                "unknown requirement `joni`",
            ),
            ("routes:\n- path: /a\n  require: joni\n", "line 3"),
            (
                "routes:\n- path: /a\n  require: {publish: CAMERA}\n",
                "unknown track source",
            ),
            (
                "routes:\n- path: /a\n  require: {record: true}\n",
                "`record:`",
            ),
            ("routes:\n- path: /a\n  require: []\n", "`require` is empty"),
            (
                "routes:\n- path: /a\n  require: [public, join]\n",
                "cannot be combined",
            ),
            (
                "routes:\n- path: /a\n  require: room_admin\n",
                "routes[0] (path `/a`)",
            ),
            (
                "routes:\n- path: /a\n  require: room_admin\n",
                "no `{room}`",
            ),
            (
                "routes:\n- path: a\n  require: join\n",
                "routes[0]: the path `a` must start with `/` at line 2",
            ),
            (
                "routes:\n- path: /a\n  methods: []\n  require: join\n",
                "`methods` is empty",
            ),
            (
                "routes:\n- path: /a\n  methods: [\"G T\"]\n  require: join\n",
                "not an HTTP method",
            ),
            (
                "routes:\n- path: /a\n  require: [join, joni]\n",
                "routes[0].require[1]",
            ),
            (
                "routes:\n- path: /a\n  match: regex\n  require: join\n",
                "unknown variant `regex`",
            ),
            ("default: allow\nroutes: []\n", "unknown variant `allow`"),
            ("routes: {}\n", "expected a sequence"),
            ("route: []\n", "unknown field `route`"),
            (
                "routes:\n- path: /a\n  require: join\n  query_token: yes please\n",
                "query_token",
            ),
            ("routes: [\n", "line"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(err.starts_with("the policy"), "{err}");
        }
    }
}
