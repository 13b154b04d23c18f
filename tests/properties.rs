//! Properties of minting, verifying and (de)serializing claims, over generated inputs.
//!
//! - mint → verify gives back exactly the claims that were minted;
//! - any single-byte change of a valid token is rejected;
//! - claims JSON (known keys only, explicit `false` and unset both present) parses and
//!   serializes back to the same JSON, also through a signed token;
//! - the verifier never panics, on arbitrary strings or on token-shaped ones.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use support::oracle::{assemble, system_time, KEY_A, SECRET_A, VIDEO_BOOLS};
use tower_livekit_auth::{
    AccessToken, AgentGrant, Claims, JobRestartPolicy, KeyRing, ParticipantKind, RoomAgentDispatch,
    RoomConfiguration, SipGrant, Verifier, VideoGrant,
};

const NOW: u64 = 1_700_000_000;

fn verifier() -> Verifier {
    Verifier::new(
        KeyRing::new()
            .with_key(KEY_A, SECRET_A)
            .expect("strong secret"),
    )
}

/// Text with JSON, quotes, escapes, unicode and control characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_-]{0,12}",
        "\\PC{0,16}",
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
        Just(r#"{"role":"host","tags":["a","b"],"n":1}"#.to_owned()),
        Just("Åsa \"Ström\" \\ 🎥 \u{0}\n".to_owned()),
    ]
}

fn nonempty_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| if s.is_empty() { "x".to_owned() } else { s })
}

fn video_grant() -> impl Strategy<Value = VideoGrant> {
    let bools = vec(option::of(any::<bool>()), 15);
    let sources = option::of(vec(
        prop_oneof![
            Just("camera".to_owned()),
            Just("microphone".to_owned()),
            Just("screen_share".to_owned()),
            Just("screen_share_audio".to_owned()),
            "[A-Za-z_]{0,10}",
        ],
        0..5,
    ));
    (
        bools,
        option::of(nonempty_text()),
        option::of(text()),
        sources,
    )
        .prop_map(|(b, room, destination_room, can_publish_sources)| {
            // A join grant needs a room to be minted.
            let room = if b[4] == Some(true) {
                room.or_else(|| Some("r".to_owned()))
            } else {
                room
            };
            // Built as an SDK writes it, through JSON: the builder writes only real source
            // names, the property covers any.
            let mut grant = serde_json::Map::new();
            for (key, value) in VIDEO_BOOLS.iter().zip(&b) {
                if let Some(value) = value {
                    grant.insert((*key).into(), (*value).into());
                }
            }
            for (key, value) in [("room", room), ("destinationRoom", destination_room)] {
                if let Some(value) = value {
                    grant.insert(key.into(), value.into());
                }
            }
            if let Some(sources) = can_publish_sources {
                grant.insert("canPublishSources".into(), sources.into());
            }
            serde_json::from_value(grant.into()).expect("a video grant")
        })
}

/// A grant object of `keys`, each set or left out as `values` says.
fn grant_of<T: serde::de::DeserializeOwned>(keys: &[&str], values: &[Option<bool>]) -> T {
    let object: serde_json::Map<_, _> = keys
        .iter()
        .zip(values)
        .filter_map(|(key, value)| value.map(|value| ((*key).to_owned(), value.into())))
        .collect();
    serde_json::from_value(object.into()).expect("a grant")
}

fn restart_policy() -> impl Strategy<Value = JobRestartPolicy> {
    prop_oneof![
        Just(JobRestartPolicy::OnFailure),
        Just(JobRestartPolicy::Never),
        // Every number the protocol does not name (0 and 1 are the two above).
        prop_oneof![i32::MIN..0, 2..=i32::MAX].prop_map(JobRestartPolicy::Other),
    ]
}

fn room_config() -> impl Strategy<Value = RoomConfiguration> {
    let agent = (
        option::of(text()),
        option::of(text()),
        option::of(restart_policy()),
        option::of(text()),
        option::of(btree_map(text(), text(), 0..3)),
    )
        .prop_map(
            |(agent_name, metadata, restart_policy, deployment, attributes)| {
                let mut dispatch = RoomAgentDispatch::default();
                dispatch.agent_name = agent_name;
                dispatch.metadata = metadata;
                dispatch.restart_policy = restart_policy;
                dispatch.deployment = deployment;
                dispatch.attributes = attributes;
                dispatch
            },
        );
    (
        option::of(text()),
        vec(option::of(any::<u32>()), 5),
        option::of(text()),
        option::of(any::<bool>()),
        vec(agent, 0..3),
        option::of(btree_map(text(), text(), 0..3)),
    )
        .prop_map(|(name, numbers, metadata, sync_streams, agents, tags)| {
            let mut config = RoomConfiguration::default();
            config.name = name;
            config.empty_timeout = numbers[0];
            config.departure_timeout = numbers[1];
            config.max_participants = numbers[2];
            config.min_playout_delay = numbers[3];
            config.max_playout_delay = numbers[4];
            config.metadata = metadata;
            config.sync_streams = sync_streams;
            config.agents = agents;
            config.tags = tags;
            // `egress` is opaque; the round trip of arbitrary JSON in it is the claims test's.
            config
        })
}

fn kind() -> impl Strategy<Value = ParticipantKind> {
    prop_oneof![
        Just(ParticipantKind::Standard),
        Just(ParticipantKind::Ingress),
        Just(ParticipantKind::Egress),
        Just(ParticipantKind::Sip),
        Just(ParticipantKind::Agent),
        Just(ParticipantKind::Connector),
        Just(ParticipantKind::Bridge),
    ]
}

/// Everything an `AccessToken` can carry.
#[derive(Clone, Debug)]
struct Minted {
    identity: String,
    name: Option<String>,
    kind: Option<ParticipantKind>,
    metadata: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    video: Option<VideoGrant>,
    sip: Option<SipGrant>,
    agent: Option<AgentGrant>,
    room_config: Option<RoomConfiguration>,
    room_preset: Option<String>,
    ttl: u64,
}

fn minted() -> impl Strategy<Value = Minted> {
    let sip = vec(option::of(any::<bool>()), 2).prop_map(|b| grant_of(&["admin", "call"], &b));
    let agent = vec(option::of(any::<bool>()), 4).prop_map(|b| {
        grant_of(
            &["admin", "simulationAdmin", "databaseAdmin", "dispatchAdmin"],
            &b,
        )
    });
    (
        (
            nonempty_text(),
            option::of(text()),
            option::of(kind()),
            option::of(text()),
            option::of(btree_map(text(), text(), 0..4)),
        ),
        (
            option::of(video_grant()),
            option::of(sip),
            option::of(agent),
            option::of(room_config()),
            option::of(text()),
            1..100_000u64,
        ),
    )
        .prop_map(
            |(
                (identity, name, kind, metadata, attributes),
                (video, sip, agent, room_config, room_preset, ttl),
            )| Minted {
                identity,
                name,
                kind,
                metadata,
                attributes,
                video,
                sip,
                agent,
                room_config,
                room_preset,
                ttl,
            },
        )
}

impl Minted {
    fn token(&self) -> String {
        let mut token = AccessToken::new(KEY_A, SECRET_A)
            .with_identity(&self.identity)
            .with_ttl(Duration::from_secs(self.ttl));
        if let Some(name) = &self.name {
            token = token.with_name(name);
        }
        if let Some(kind) = self.kind {
            token = token.with_kind(kind);
        }
        if let Some(metadata) = &self.metadata {
            token = token.with_metadata(metadata);
        }
        if let Some(attributes) = &self.attributes {
            token = token.with_attributes(attributes.clone());
        }
        if let Some(video) = &self.video {
            token = token.with_video_grant(video.clone());
        }
        if let Some(sip) = &self.sip {
            token = token.with_sip_grant(sip.clone());
        }
        if let Some(agent) = &self.agent {
            token = token.with_agent_grant(agent.clone());
        }
        if let Some(config) = &self.room_config {
            token = token.with_room_config(config.clone());
        }
        if let Some(preset) = &self.room_preset {
            token = token.with_room_preset(preset);
        }
        token
            .to_jwt_at(system_time(NOW))
            .expect("an identity and a non-empty room mint")
    }

    /// The claims JSON the token must carry, built from the inputs.
    fn expected_json(&self) -> Value {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(KEY_A));
        claims.insert("sub".into(), json!(self.identity));
        claims.insert("nbf".into(), json!(NOW));
        claims.insert("exp".into(), json!(NOW + self.ttl));
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                claims.insert(key.into(), value);
            }
        };
        put("name", self.name.as_ref().map(|v| json!(v)));
        put("kind", self.kind.map(|k| json!(k.as_str())));
        put("metadata", self.metadata.as_ref().map(|v| json!(v)));
        put("attributes", self.attributes.as_ref().map(|v| json!(v)));
        put("video", self.video.as_ref().map(value));
        put("sip", self.sip.as_ref().map(value));
        put("agent", self.agent.as_ref().map(value));
        put("roomConfig", self.room_config.as_ref().map(value));
        put("roomPreset", self.room_preset.as_ref().map(|v| json!(v)));
        Value::Object(claims)
    }
}

fn value<T: serde::Serialize>(grant: &T) -> Value {
    serde_json::to_value(grant).expect("grants serialize")
}

/// Arbitrary claims JSON with known keys only, valid types, no `null`, and dates that are
/// integers or have a fraction (an integral float such as `5.0` is written back as `5`).
fn claims_json() -> impl Strategy<Value = Value> {
    let date = prop_oneof![
        (-(1i64 << 53)..(1i64 << 53)).prop_map(|n| json!(n)),
        (0u32..4_000_000_000, 1u32..1000)
            .prop_map(|(s, ms)| json!(f64::from(s) + f64::from(ms) / 1000.0)),
    ];
    let bools = vec(option::of(any::<bool>()), 15);
    let video = (bools, option::of(text()), option::of(vec(text(), 0..4))).prop_map(
        |(b, room, sources)| {
            let mut grant = Map::new();
            for (name, value) in VIDEO_BOOLS.iter().zip(b) {
                if let Some(value) = value {
                    grant.insert((*name).into(), json!(value));
                }
            }
            if let Some(room) = room {
                grant.insert("room".into(), json!(room));
            }
            if let Some(sources) = sources {
                grant.insert("canPublishSources".into(), json!(sources));
            }
            Value::Object(grant)
        },
    );
    let small_grant = |names: &'static [&'static str]| {
        vec(option::of(any::<bool>()), names.len()).prop_map(move |b| {
            let mut grant = Map::new();
            for (name, value) in names.iter().zip(b) {
                if let Some(value) = value {
                    grant.insert((*name).into(), json!(value));
                }
            }
            Value::Object(grant)
        })
    };
    let config = room_config().prop_map(|c| serde_json::to_value(c).expect("serializes"));
    let strings = [
        "iss",
        "sub",
        "jti",
        "name",
        "kind",
        "metadata",
        "roomPreset",
        "sha256",
    ];
    (
        vec(option::of(text()), strings.len()),
        vec(option::of(date), 3),
        option::of(prop_oneof![
            text().prop_map(|a| json!(a)),
            vec(text(), 0..3).prop_map(|a| json!(a))
        ]),
        option::of(vec(text(), 0..4)),
        option::of(btree_map(text(), text(), 0..4)),
        (
            option::of(video),
            option::of(small_grant(&["admin", "call"])),
            option::of(small_grant(&[
                "admin",
                "simulationAdmin",
                "databaseAdmin",
                "dispatchAdmin",
            ])),
            option::of(small_grant(&["perform"])),
            option::of(small_grant(&["write"])),
            option::of(config),
        ),
    )
        .prop_map(
            move |(texts, dates, aud, kind_details, attributes, grants)| {
                let mut claims = Map::new();
                for (name, value) in strings.iter().zip(texts) {
                    if let Some(value) = value {
                        claims.insert((*name).into(), json!(value));
                    }
                }
                for (name, value) in ["exp", "nbf", "iat"].iter().zip(dates) {
                    if let Some(value) = value {
                        claims.insert((*name).into(), value);
                    }
                }
                let (video, sip, agent, inference, observability, config) = grants;
                for (name, value) in [
                    ("aud", aud),
                    ("kindDetails", kind_details.map(|k| json!(k))),
                    ("attributes", attributes.map(|a| json!(a))),
                    ("video", video),
                    ("sip", sip),
                    ("agent", agent),
                    ("inference", inference),
                    ("observability", observability),
                    ("roomConfig", config),
                ] {
                    if let Some(value) = value {
                        claims.insert(name.into(), value);
                    }
                }
                Value::Object(claims)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn minted_claims_come_back_unchanged_from_the_verifier(m in minted()) {
        let token = m.token();
        let claims = verifier()
            .verify_at(&token, system_time(NOW))
            .expect("a freshly minted token verifies");
        prop_assert_eq!(serde_json::to_value(&claims).expect("serializes"), m.expected_json());
        prop_assert_eq!(claims.identity(), m.identity.as_str());
        prop_assert_eq!(claims.video(), m.video.as_ref());
        prop_assert_eq!(claims.sip(), m.sip.as_ref());
        prop_assert_eq!(claims.agent(), m.agent.as_ref());
        prop_assert_eq!(claims.room_config(), m.room_config.as_ref());
        prop_assert_eq!(claims.kind(), m.kind.unwrap_or_default());
        prop_assert_eq!(claims.expires_at(), Some((NOW + m.ttl) as i64));
    }

    #[test]
    fn any_single_byte_change_of_a_valid_token_is_rejected(
        m in minted(),
        at in any::<prop::sample::Index>(),
        replacement in 0u8..0x80,
    ) {
        let token = m.token();
        let mut bytes = token.clone().into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let changed = String::from_utf8(bytes).expect("ASCII stays UTF-8");
        let result = verifier().verify_at(&changed, system_time(NOW));
        prop_assert!(result.is_err(), "byte {} of {} set to {:#04x} was accepted", at, token, replacement);
    }

    #[test]
    fn claims_json_round_trips_exactly(json in claims_json()) {
        let claims: Claims = serde_json::from_value(json.clone()).expect("valid claims parse");
        let back = serde_json::to_value(&claims).expect("serializes");
        prop_assert_eq!(&back, &json);
        // The text form is stable too: serialize → parse → serialize gives the same text.
        let text = serde_json::to_string(&claims).expect("serializes");
        let again: Claims = serde_json::from_str(&text).expect("parses its own output");
        prop_assert_eq!(serde_json::to_string(&again).expect("serializes"), text);
        prop_assert_eq!(again, claims);
    }

    #[test]
    fn signed_claims_json_round_trips_through_the_verifier(json in claims_json()) {
        let Value::Object(mut map) = json else { unreachable!("claims_json makes objects") };
        map.insert("iss".into(), json!(KEY_A));
        map.insert("exp".into(), json!(NOW + 600));
        map.remove("nbf");
        map.remove("iat");
        map.remove("aud");
        let payload = Value::Object(map);
        let token = assemble(br#"{"alg":"HS256","typ":"JWT"}"#, payload.to_string().as_bytes(), SECRET_A.as_bytes());
        let claims = verifier().verify_at(&token, system_time(NOW)).expect("valid token verifies");
        prop_assert_eq!(serde_json::to_value(&claims).expect("serializes"), payload);
    }

    #[test]
    fn null_for_any_known_key_reads_as_absent(json in claims_json(), pick in any::<prop::sample::Index>()) {
        let Value::Object(map) = json else { unreachable!("claims_json makes objects") };
        const KNOWN: [&str; 20] = ["iss", "sub", "jti", "aud", "exp", "nbf", "iat", "name", "kind",
            "kindDetails", "metadata", "attributes", "video", "sip", "agent", "inference",
            "observability", "roomPreset", "roomConfig", "sha256"];
        let key = KNOWN[pick.index(KNOWN.len())];
        let mut with_null = map.clone();
        with_null.insert(key.into(), Value::Null);
        let mut without = map;
        without.remove(key);
        let a: Claims = serde_json::from_value(Value::Object(with_null)).expect("null is absent");
        let b: Claims = serde_json::from_value(Value::Object(without)).expect("parses");
        prop_assert_eq!(a, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_verifier_never_panics_on_any_string(s in ".*") {
        let _ = verifier().verify_at(&s, system_time(NOW));
    }

    #[test]
    fn the_verifier_never_panics_on_token_shaped_strings(
        s in "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,60}",
    ) {
        let _ = verifier().verify_at(&s, system_time(NOW));
    }

    #[test]
    fn the_verifier_never_panics_on_signed_arbitrary_json(
        header in prop_oneof![Just(r#"{"alg":"HS256"}"#.to_owned()), "\\{.{0,40}\\}"],
        payload in "\\{.{0,120}\\}",
    ) {
        let token = assemble(header.as_bytes(), payload.as_bytes(), SECRET_A.as_bytes());
        let _ = verifier().verify_at(&token, system_time(NOW));
    }
}

/// A JSON string token made of text and escapes of every kind, well formed or not (a lone
/// surrogate, an unknown escape), as a hostile or odd token may hold one.
fn json_string_token() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            "[a-zA-Z0-9 {}:,é€😀]{0,4}",
            proptest::sample::select(vec![
                r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\x", r"\u12",
            ])
            .prop_map(str::to_owned),
            (0u32..=0xFFFF).prop_map(|unit| format!("\\u{unit:04x}")),
            (0xD800u32..=0xDFFF).prop_map(|unit| format!("\\u{unit:04X}")),
        ],
        0..8,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// The verifier reads `name` and `metadata` through its own unescaping (no scratch buffer);
    /// `Claims`' own `Deserialize` through serde_json's. Both must accept the same payloads
    /// and read the same claims from them.
    #[test]
    fn the_verifier_reads_escaped_strings_as_serde_json_does(
        name in json_string_token(),
        metadata in json_string_token(),
        identity in json_string_token(),
    ) {
        let payload = format!(
            r#"{{"iss":"{KEY_A}","sub":{identity},"name":{name},"metadata":{metadata},"exp":4102444800}}"#
        );
        let generic = serde_json::from_slice::<Claims>(payload.as_bytes());
        let token = assemble(br#"{"alg":"HS256"}"#, payload.as_bytes(), SECRET_A.as_bytes());
        let verified = tower_livekit_auth::verify::dangerous::decode_unverified(&token);
        match (generic, verified) {
            (Ok(generic), Ok(verified)) => prop_assert_eq!(generic, verified),
            (Err(_), Err(_)) => {}
            (generic, verified) => prop_assert!(
                false,
                "{payload}: serde_json {:?}, the verifier {:?}",
                generic.map(|c| c.metadata().to_owned()),
                verified.map(|c| c.metadata().to_owned())
            ),
        }
    }
}
