//! The built-in policies: `livekit`, the LiveKit server's own routes (`livekit.yaml`, printed
//! by `lkauth gate --print-preset livekit`).

use super::policy::{Policy, PolicyError};

/// The names `--preset` takes.
pub const PRESETS: &[&str] = &["livekit"];

/// The YAML text of the preset `name`.
#[must_use]
pub fn preset_text(name: &str) -> Option<&'static str> {
    match name {
        "livekit" => Some(include_str!("livekit.yaml")),
        _ => None,
    }
}

impl Policy {
    /// The built-in policy `name` (one of [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Policy, PolicyError> {
        let text = preset_text(name).ok_or_else(|| {
            PolicyError::new(format!(
                "no preset `{name}`: the presets are {}",
                PRESETS.join(", ")
            ))
        })?;
        Policy::from_yaml(text, &format!("the preset `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use tower_livekit_auth::middleware::RequiredGrant;

    use crate::gate::policy::{DefaultRule, Requirement};

    const JOIN: Requirement = Requirement::Grant(RequiredGrant::Join);
    const CREATE_ROOMS: Requirement = Requirement::Grant(RequiredGrant::CreateRooms);
    const LIST_ROOMS: Requirement = Requirement::Grant(RequiredGrant::ListRooms);
    const RECORD: Requirement = Requirement::Grant(RequiredGrant::Record);
    const INGRESS_ADMIN: Requirement = Requirement::Grant(RequiredGrant::IngressAdmin);
    const SIP_CALL: Requirement = Requirement::Grant(RequiredGrant::SipCall);
    const SIP_ADMIN: Requirement = Requirement::Grant(RequiredGrant::SipAdmin);

    /// What the preset requires of `method path`, `None` for the default (deny).
    fn required(policy: &Policy, method: Method, path: &str) -> Option<(Vec<Requirement>, bool)> {
        policy
            .routes
            .iter()
            .find(|route| route.matches(&method, path))
            .map(|route| (route.require.clone(), route.query_token))
    }

    #[test]
    fn the_livekit_preset_asks_for_the_grant_the_server_checks() {
        use Requirement::{Agent, Public, TokenRoomAdmin};
        let policy = Policy::preset("livekit").expect("the preset parses");
        assert_eq!(policy.default, DefaultRule::Deny);
        let post = |path: &str| required(&policy, Method::POST, path).map(|(r, _)| r);
        for path in ["/rtc", "/rtc/validate", "/rtc/v1", "/rtc/v1/validate"] {
            assert_eq!(
                required(&policy, Method::GET, path),
                Some((vec![JOIN], true)),
                "{path}"
            );
        }
        assert_eq!(
            required(&policy, Method::GET, "/"),
            Some((vec![Public], false))
        );
        assert_eq!(
            required(&policy, Method::GET, "/agent"),
            Some((vec![Agent], false))
        );
        assert_eq!(post("/whip/v1"), Some(vec![JOIN]));
        assert_eq!(
            required(&policy, Method::DELETE, "/whip/v1/PA_x").map(|(r, _)| r),
            Some(vec![JOIN])
        );
        let room = "/twirp/livekit.RoomService/";
        assert_eq!(post(&format!("{room}CreateRoom")), Some(vec![CREATE_ROOMS]));
        assert_eq!(post(&format!("{room}DeleteRoom")), Some(vec![CREATE_ROOMS]));
        assert_eq!(post(&format!("{room}ListRooms")), Some(vec![LIST_ROOMS]));
        for method in [
            "ListParticipants",
            "GetParticipant",
            "RemoveParticipant",
            "MutePublishedTrack",
            "UpdateParticipant",
            "UpdateSubscriptions",
            "SendData",
            "UpdateRoomMetadata",
            "ForwardParticipant",
            "MoveParticipant",
            "PerformRpc",
        ] {
            assert_eq!(
                post(&format!("{room}{method}")),
                Some(vec![TokenRoomAdmin]),
                "{method}"
            );
        }
        assert_eq!(post(&format!("{room}NoSuchMethod")), None);
        assert_eq!(
            required(&policy, Method::GET, &format!("{room}ListRooms")),
            None
        );
        assert_eq!(
            post("/twirp/livekit.Egress/StartRoomCompositeEgress"),
            Some(vec![RECORD])
        );
        assert_eq!(post("/twirp/livekit.Egress/ListEgress"), Some(vec![RECORD]));
        assert_eq!(
            post("/twirp/livekit.Ingress/CreateIngress"),
            Some(vec![INGRESS_ADMIN])
        );
        assert_eq!(
            post("/twirp/livekit.SIP/CreateSIPParticipant"),
            Some(vec![SIP_CALL])
        );
        assert_eq!(
            post("/twirp/livekit.SIP/TransferSIPParticipant"),
            Some(vec![SIP_CALL, TokenRoomAdmin])
        );
        assert_eq!(
            post("/twirp/livekit.SIP/CreateSIPInboundTrunk"),
            Some(vec![SIP_ADMIN])
        );
        assert_eq!(
            post("/twirp/livekit.SIP/ListSIPDispatchRule"),
            Some(vec![SIP_ADMIN])
        );
        assert_eq!(
            post("/twirp/livekit.AgentDispatchService/CreateDispatch"),
            Some(vec![TokenRoomAdmin])
        );
        assert_eq!(post("/twirp/livekit.Other/Method"), None);
        assert_eq!(post("/rtc/v2"), None);
    }

    #[test]
    fn an_unknown_preset_names_the_known_ones() {
        let err = Policy::preset("nginx").expect_err("no such preset");
        assert!(err.to_string().contains("the presets are livekit"), "{err}");
    }
}
