//! The smaller grants: SIP, agent, inference and observability.

use serde::{Deserialize, Serialize};

/// The `sip` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SipGrant {
    /// `admin`: manage SIP trunks and dispatch rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// `call`: make outbound SIP calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<bool>,
}

/// The `agent` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentGrant {
    /// `admin`: manage agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// `simulationAdmin`: manage agent simulations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation_admin: Option<bool>,
    /// `databaseAdmin`: manage agent databases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_admin: Option<bool>,
    /// `dispatchAdmin`: manage agent dispatches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_admin: Option<bool>,
}

/// The `inference` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceGrant {
    /// `perform`: call LiveKit inference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perform: Option<bool>,
}

/// The `observability` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservabilityGrant {
    /// `write`: write observability data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_sip_grant_defaults_the_rest() {
        let g: SipGrant = serde_json::from_str(r#"{"call":true,"extra":1}"#).expect("parses");
        assert_eq!(
            g,
            SipGrant {
                admin: None,
                call: Some(true)
            }
        );
    }

    #[test]
    fn agent_grant_reads_camel_case() {
        let g: AgentGrant =
            serde_json::from_str(r#"{"simulationAdmin":true,"dispatchAdmin":false}"#).expect("ok");
        assert_eq!(g.simulation_admin, Some(true));
        assert_eq!(g.dispatch_admin, Some(false));
        assert_eq!(g.admin, None);
    }
}
