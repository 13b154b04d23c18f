//! Every enum of the crate against LiveKit's protobuf enums, as `@livekit/protocol`'s generated
//! code has them (tests/fixtures/protocol_enums.json, written by interop/gen_protocol_enums.mjs;
//! `.ci/run` regenerates it and fails when it changes).
//!
//! Both directions: each variant of the crate is a protocol value with the same name (the claim
//! string is the lower-case proto name: `CAMERA` ↔ `"camera"`) and, where the crate exposes one,
//! the same number; and each protocol value has its variant in the crate, unless it is listed in
//! [`DELIBERATELY_LACKING`] with the reason. Issue 13 item 7 is why: the crate once invented
//! `JRP_ALWAYS` = 1 and moved `JRP_NEVER` to 2.

use std::collections::BTreeMap;

use serde::Deserialize;
use tower_livekit_auth::{
    JobRestartPolicy, KindDetail, ParticipantKind, RoomAgentDispatch, TrackSource,
};

/// Protocol values the crate leaves out on purpose: (protocol enum, value name, why).
///
/// None today: the crate mirrors every value of the four enums in the fixture's
/// `@livekit/protocol` version.
const DELIBERATELY_LACKING: &[(&str, &str, &str)] = &[];

/// The named variants of `JobRestartPolicy` (`Other(n)` holds every other number).
const RESTART_POLICIES: [JobRestartPolicy; 2] =
    [JobRestartPolicy::OnFailure, JobRestartPolicy::Never];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    generator: String,
    package: String,
    version: String,
    enums: BTreeMap<String, ProtocolEnum>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolEnum {
    crate_type: String,
    values: BTreeMap<String, i64>,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/protocol_enums.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}; regenerate it: bash interop/setup.sh && node interop/gen_protocol_enums.mjs")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The values of the protocol enum `name`, checked to be the one the crate type mirrors.
fn protocol(name: &str, crate_type: &str) -> BTreeMap<String, i64> {
    let mut f = fixture();
    let e = f
        .enums
        .remove(name)
        .unwrap_or_else(|| panic!("the fixture has no protocol enum {name}"));
    assert_eq!(
        e.crate_type, crate_type,
        "{name} is mirrored by the crate's {crate_type}"
    );
    assert!(!e.values.is_empty(), "{name} has no values in the fixture");
    e.values
}

fn lacking(protocol_enum: &str, value: &str) -> bool {
    DELIBERATELY_LACKING
        .iter()
        .any(|(e, v, _)| *e == protocol_enum && *v == value)
}

/// The claim string of a protocol value name: the name in lower case.
fn claim_name(proto_name: &str) -> String {
    proto_name.to_ascii_lowercase()
}

#[test]
fn fixture_is_livekit_protocol_with_the_four_enums() {
    let f = fixture();
    assert_eq!(f.generator, "interop/gen_protocol_enums.mjs");
    assert_eq!(f.package, "@livekit/protocol");
    assert!(
        f.version.split('.').count() == 3 && f.version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "version {:?}",
        f.version
    );
    let names: Vec<&str> = f.enums.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "JobRestartPolicy",
            "ParticipantInfo_Kind",
            "ParticipantInfo_KindDetail",
            "TrackSource"
        ]
    );
    for (e, v, why) in DELIBERATELY_LACKING {
        let values = &f
            .enums
            .get(*e)
            .unwrap_or_else(|| panic!("no enum {e}"))
            .values;
        assert!(
            values.contains_key(*v),
            "{e}.{v} is listed as lacking but the protocol has no such value"
        );
        assert!(!why.is_empty(), "{e}.{v}: say why it is left out");
    }
}

#[test]
fn track_source_names_and_numbers_are_the_protocol_ones() {
    let proto = protocol("TrackSource", "TrackSource");
    for &source in TrackSource::ALL {
        let name = source.as_str().to_ascii_uppercase();
        assert_eq!(
            proto.get(&name),
            Some(&i64::from(source.number())),
            "crate TrackSource::{source:?} is {:?} = {}; the protocol has {name} = {:?}",
            source.as_str(),
            source.number(),
            proto.get(&name)
        );
        assert_eq!(source.as_str(), claim_name(&name));
    }
    for (name, &number) in &proto {
        let parsed = claim_name(name).parse::<TrackSource>();
        if lacking("TrackSource", name) {
            assert!(
                parsed.is_err(),
                "TrackSource {name} is listed as lacking but the crate has it"
            );
            continue;
        }
        let source = parsed.unwrap_or_else(|_| {
            panic!(
                "protocol TrackSource {name} = {number}: the crate does not read {:?}",
                claim_name(name)
            )
        });
        assert_eq!(i64::from(source.number()), number, "TrackSource {name}");
    }
}

#[test]
fn participant_kind_names_are_the_protocol_ones() {
    let proto = protocol("ParticipantInfo_Kind", "ParticipantKind");
    for &kind in ParticipantKind::ALL {
        let name = kind.as_str().to_ascii_uppercase();
        assert!(
            proto.contains_key(&name),
            "crate ParticipantKind::{kind:?} ({:?}) is not in ParticipantInfo.Kind {:?}",
            kind.as_str(),
            proto.keys().collect::<Vec<_>>()
        );
        assert_eq!(kind.as_str(), claim_name(&name));
        assert_eq!(ParticipantKind::from_claim(kind.as_str()), kind);
    }
    for (name, number) in &proto {
        // `from_claim` reads an unknown kind as Standard, so compare the name it gives back.
        let read = ParticipantKind::from_claim(&claim_name(name));
        let has = read.as_str() == claim_name(name);
        if lacking("ParticipantInfo_Kind", name) {
            assert!(
                !has,
                "ParticipantInfo.Kind {name} is listed as lacking but the crate has it"
            );
            continue;
        }
        assert!(
            has,
            "protocol ParticipantInfo.Kind {name} = {number}: the crate reads {:?} as {read:?}",
            claim_name(name)
        );
        assert!(
            ParticipantKind::ALL.contains(&read),
            "ParticipantKind::ALL lacks {read:?}"
        );
    }
}

#[test]
fn kind_detail_names_are_the_protocol_ones() {
    let proto = protocol("ParticipantInfo_KindDetail", "KindDetail");
    for &detail in KindDetail::ALL {
        let name = detail.as_str().to_ascii_uppercase();
        assert!(
            proto.contains_key(&name),
            "crate KindDetail::{detail:?} ({:?}) is not in ParticipantInfo.KindDetail {:?}",
            detail.as_str(),
            proto.keys().collect::<Vec<_>>()
        );
        assert_eq!(detail.as_str(), claim_name(&name));
        assert_eq!(KindDetail::from_claim(detail.as_str()), Some(detail));
    }
    for (name, number) in &proto {
        let read = KindDetail::from_claim(&claim_name(name));
        if lacking("ParticipantInfo_KindDetail", name) {
            assert_eq!(
                read, None,
                "KindDetail {name} is listed as lacking but the crate has it"
            );
            continue;
        }
        let detail = read.unwrap_or_else(|| {
            panic!(
                "protocol ParticipantInfo.KindDetail {name} = {number}: the crate drops {:?}",
                claim_name(name)
            )
        });
        assert_eq!(detail.as_str(), claim_name(name));
        assert!(
            KindDetail::ALL.contains(&detail),
            "KindDetail::ALL lacks {detail:?}"
        );
    }
}

/// `restartPolicy` read from `value` (a JSON name or number) and written back.
fn restart_policy(value: &str) -> Result<(JobRestartPolicy, String), serde_json::Error> {
    let agent: RoomAgentDispatch =
        serde_json::from_str(&format!(r#"{{"restartPolicy":{value}}}"#))?;
    let policy = agent.restart_policy.expect("restartPolicy is set");
    let back = serde_json::to_value(&agent)?;
    Ok((policy, back["restartPolicy"].to_string()))
}

#[test]
fn job_restart_policy_names_and_numbers_are_the_protocol_ones() {
    let proto = protocol("JobRestartPolicy", "JobRestartPolicy");
    // The protocol → the crate: its name and its number read as one named variant, written
    // back as the name.
    for (name, number) in &proto {
        let quoted = format!("\"{name}\"");
        if lacking("JobRestartPolicy", name) {
            assert!(
                restart_policy(&quoted).is_err(),
                "JobRestartPolicy {name} is listed as lacking"
            );
            continue;
        }
        let (by_name, back) = restart_policy(&quoted)
            .unwrap_or_else(|e| panic!("protocol JobRestartPolicy {name} = {number}: {e}"));
        assert_eq!(back, quoted, "{name} written back");
        let (by_number, back) = restart_policy(&number.to_string())
            .unwrap_or_else(|e| panic!("protocol JobRestartPolicy {name} = {number}: {e}"));
        assert_eq!(by_number, by_name, "{number} and {name} are one value");
        assert_eq!(back, quoted, "{number} written back as {name}");
        assert!(
            RESTART_POLICIES.contains(&by_name),
            "{name} read as {by_name:?}"
        );
    }
    // The crate → the protocol: each named variant writes a protocol name.
    for policy in RESTART_POLICIES {
        let written = serde_json::to_value(policy).expect("serializes");
        let name = written
            .as_str()
            .unwrap_or_else(|| panic!("{policy:?} is written as {written}, not a name"));
        assert!(
            proto.contains_key(name),
            "crate {policy:?} writes {name}, which the protocol does not have"
        );
    }
}

#[test]
fn job_restart_policy_names_no_number_the_protocol_does_not() {
    let proto = protocol("JobRestartPolicy", "JobRestartPolicy");
    let (min, max) = (proto.values().min().copied(), proto.values().max().copied());
    let (min, max) = (min.expect("values"), max.expect("values"));
    let around = (min - 8..=max + 8).chain([i64::from(i32::MIN), i64::from(i32::MAX)]);
    for n in around.filter(|n| !proto.values().any(|v| v == n)) {
        let (policy, back) = restart_policy(&n.to_string()).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(
            policy,
            JobRestartPolicy::Other(i32::try_from(n).expect("i32")),
            "{n}"
        );
        assert_eq!(
            back,
            n.to_string(),
            "{n} is not a protocol value: it stays a number"
        );
    }
    // And no name outside the protocol is read, the crate's old invention included.
    for name in ["JRP_ALWAYS", "ALWAYS", "NEVER", "ON_FAILURE"] {
        assert!(
            restart_policy(&format!("\"{name}\"")).is_err(),
            "{name} is not a protocol name"
        );
    }
    for name in proto.keys() {
        let lower = format!("\"{}\"", name.to_ascii_lowercase());
        assert!(
            restart_policy(&lower).is_err(),
            "protojson names are case-sensitive: {lower}"
        );
    }
}
