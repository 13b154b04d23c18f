//! The smaller grants: SIP, agent, inference and observability.
//!
//! Like [`VideoGrant`](super::VideoGrant), each keeps its claims exactly as the token wrote them
//! (an explicit `false` stays, unset stays unset) behind methods: `with_*` to build one, and a
//! reader per permission that is `false` when the claim is unset.

use serde::{Deserialize, Serialize};

/// Defines a grant: its fields (private, tri-state), a builder and a reader per field.
macro_rules! grant {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $field:ident, $claim:literal, $with:ident, $read:ident, $what:literal; )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[non_exhaustive]
        pub struct $name {
            $(
                #[doc = concat!("`", $claim, "`: ", $what, ".")]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub(crate) $field: Option<bool>,
            )+
        }

        impl $name {
            /// A grant with no claim set: it allows nothing.
            #[must_use]
            pub fn new() -> Self {
                Self::default()
            }

            $(
                #[doc = concat!("Sets `", $claim, "`: ", $what, ".")]
                #[must_use]
                pub fn $with(mut self, value: bool) -> Self {
                    self.$field = Some(value);
                    self
                }

                #[doc = concat!("`", $claim, "`: ", $what, "; `false` when unset.")]
                #[must_use]
                pub fn $read(&self) -> bool {
                    self.$field == Some(true)
                }
            )+
        }
    };
}

grant! {
    /// The `sip` claim.
    ///
    /// ```
    /// use tower_livekit_auth::SipGrant;
    ///
    /// let grant = SipGrant::new().with_call(true);
    /// assert!(grant.can_call() && !grant.is_admin());
    /// ```
    SipGrant {
        admin, "admin", with_admin, is_admin, "manage SIP trunks and dispatch rules";
        call, "call", with_call, can_call, "make outbound SIP calls";
    }
}

grant! {
    /// The `agent` claim.
    AgentGrant {
        admin, "admin", with_admin, is_admin, "manage agents";
        simulation_admin, "simulationAdmin", with_simulation_admin, is_simulation_admin,
            "manage agent simulations";
        database_admin, "databaseAdmin", with_database_admin, is_database_admin,
            "manage agent databases";
        dispatch_admin, "dispatchAdmin", with_dispatch_admin, is_dispatch_admin,
            "manage agent dispatches";
    }
}

grant! {
    /// The `inference` claim.
    InferenceGrant {
        perform, "perform", with_perform, can_perform, "call LiveKit inference";
    }
}

grant! {
    /// The `observability` claim.
    ObservabilityGrant {
        write, "write", with_write, can_write, "write observability data";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_sip_grant_defaults_the_rest() {
        let g: SipGrant = serde_json::from_str(r#"{"call":true,"extra":1}"#).expect("parses");
        assert_eq!(g, SipGrant::new().with_call(true));
        assert!(g.can_call() && !g.is_admin());
    }

    #[test]
    fn agent_grant_reads_camel_case() {
        let g: AgentGrant =
            serde_json::from_str(r#"{"simulationAdmin":true,"dispatchAdmin":false}"#).expect("ok");
        assert_eq!(g.simulation_admin, Some(true));
        assert_eq!(g.dispatch_admin, Some(false));
        assert_eq!(g.admin, None);
        assert!(g.is_simulation_admin() && !g.is_dispatch_admin());
    }

    #[test]
    fn an_explicit_false_is_written_back_and_unset_is_not() {
        let text = serde_json::to_string(&SipGrant::new().with_admin(false)).expect("serializes");
        assert_eq!(text, r#"{"admin":false}"#);
        assert_eq!(
            serde_json::to_string(&ObservabilityGrant::new()).expect("serializes"),
            "{}"
        );
    }
}
