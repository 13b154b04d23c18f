//! Participant kinds (`kind`, `kindDetails`).

use std::fmt;

/// What a participant is (`livekit.ParticipantInfo.Kind`), from the token's `kind` claim.
///
/// The LiveKit server matches the claim case-insensitively and treats an empty or unknown value
/// as [`Standard`](ParticipantKind::Standard); so does [`ParticipantKind::from_claim`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParticipantKind {
    /// A regular participant (`standard`), also every empty or unknown value.
    #[default]
    Standard,
    /// An ingress (`ingress`).
    Ingress,
    /// An egress recorder (`egress`).
    Egress,
    /// A SIP participant (`sip`).
    Sip,
    /// An agent (`agent`).
    Agent,
    /// A connector (`connector`).
    Connector,
    /// A bridge (`bridge`).
    Bridge,
}

impl ParticipantKind {
    /// Every kind, in protobuf order (a slice: LiveKit adds kinds from time to time).
    pub const ALL: &'static [ParticipantKind] = &[
        ParticipantKind::Standard,
        ParticipantKind::Ingress,
        ParticipantKind::Egress,
        ParticipantKind::Sip,
        ParticipantKind::Agent,
        ParticipantKind::Connector,
        ParticipantKind::Bridge,
    ];

    /// Reads the `kind` claim the way the LiveKit server does: case-insensitive, and
    /// `Standard` for anything empty or unknown.
    #[must_use]
    pub fn from_claim(value: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(value))
            .unwrap_or_default()
    }

    /// The lower-case name written in tokens.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ParticipantKind::Standard => "standard",
            ParticipantKind::Ingress => "ingress",
            ParticipantKind::Egress => "egress",
            ParticipantKind::Sip => "sip",
            ParticipantKind::Agent => "agent",
            ParticipantKind::Connector => "connector",
            ParticipantKind::Bridge => "bridge",
        }
    }
}

impl fmt::Display for ParticipantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detail of the participant kind (`kindDetails`). Unknown entries are dropped on reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KindDetail {
    /// `cloud_agent`.
    CloudAgent,
    /// `forwarded`.
    Forwarded,
    /// `connector_whatsapp`.
    ConnectorWhatsapp,
    /// `connector_twilio`.
    ConnectorTwilio,
    /// `bridge_rtsp`.
    BridgeRtsp,
    /// `simulation`.
    Simulation,
}

impl KindDetail {
    /// Every kind detail, in protobuf order (a slice: LiveKit adds details from time to time).
    pub const ALL: &'static [KindDetail] = &[
        KindDetail::CloudAgent,
        KindDetail::Forwarded,
        KindDetail::ConnectorWhatsapp,
        KindDetail::ConnectorTwilio,
        KindDetail::BridgeRtsp,
        KindDetail::Simulation,
    ];

    /// Reads one `kindDetails` entry; `None` for a name this crate does not know.
    #[must_use]
    pub fn from_claim(value: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|detail| detail.as_str().eq_ignore_ascii_case(value))
    }

    /// The name written in tokens.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            KindDetail::CloudAgent => "cloud_agent",
            KindDetail::Forwarded => "forwarded",
            KindDetail::ConnectorWhatsapp => "connector_whatsapp",
            KindDetail::ConnectorTwilio => "connector_twilio",
            KindDetail::BridgeRtsp => "bridge_rtsp",
            KindDetail::Simulation => "simulation",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_case_insensitive_and_unknown_is_standard() {
        assert_eq!(ParticipantKind::from_claim("AGENT"), ParticipantKind::Agent);
        assert_eq!(
            ParticipantKind::from_claim("Egress"),
            ParticipantKind::Egress
        );
        assert_eq!(
            ParticipantKind::from_claim("robot"),
            ParticipantKind::Standard
        );
        assert_eq!(ParticipantKind::from_claim(""), ParticipantKind::Standard);
        for kind in ParticipantKind::ALL {
            assert_eq!(ParticipantKind::from_claim(kind.as_str()), *kind);
        }
    }

    #[test]
    fn unknown_kind_details_are_dropped() {
        assert_eq!(
            KindDetail::from_claim("cloud_agent"),
            Some(KindDetail::CloudAgent)
        );
        assert_eq!(KindDetail::from_claim("teleporter"), None);
    }
}
