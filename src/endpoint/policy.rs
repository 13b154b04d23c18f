//! [`TokenPolicy`]: who gets which token. It answers each request with a [`TokenApproval`] (the
//! token to mint) or a [`TokenRefusal`].

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use http::StatusCode;

use super::request::TokenRequest;
use crate::claims::{ParticipantKind, RoomConfiguration, VideoGrant};
use crate::mint::AccessToken;

/// What the policy allows: the token to mint for this request. It is an [`AccessToken`]
/// without a key yet; the endpoint signs it with its own.
///
/// Nothing the client asked for goes into the token unless the policy says so: the client
/// chooses `participant_metadata`, `participant_attributes` and `room_config` freely, while
/// applications read attributes as roles and an agent dispatch costs money. So
/// [`from_request`](Self::from_request) takes only the identity the policy gives and the
/// display name the client asked for, and each of the rest is an explicit `accept_*`.
///
/// What the client asked for and the token does not carry as asked is refused, never dropped:
/// the endpoint answers `403 field_not_allowed` naming the fields (LiveKit's endpoint standard;
/// see [the module docs](super#fields-the-policy-does-not-accept)). That holds for the identity
/// and the room too: a policy that gives its own identity refuses a client that asked for
/// another one.
///
/// ```
/// use tower_livekit_auth::endpoint::{TokenApproval, TokenRequest};
/// use tower_livekit_auth::VideoGrant;
///
/// fn decide(request: &TokenRequest, user: &str) -> TokenApproval {
///     let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
///     TokenApproval::from_request(request, user)
///         .with_video_grant(VideoGrant::join(room))
///         .accept_metadata()        // the client's metadata: fine for this app
///         .accept_agent_dispatch()  // the agents it asks for, and nothing else of room_config
/// }
/// # let _ = decide(&TokenRequest::default(), "u");
/// ```
#[derive(Clone, Debug)]
pub struct TokenApproval {
    pub(super) token: AccessToken,
    requested: Requested,
    pub(super) allow_egress: bool,
}

/// The fields of the request that go into the token only when the policy accepts them.
#[derive(Clone, Debug, Default)]
struct Requested {
    metadata: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    room_config: Option<RoomConfiguration>,
}

impl TokenApproval {
    /// A token for `identity`, with no grant yet.
    pub fn new(identity: impl Into<String>) -> Self {
        TokenApproval {
            token: AccessToken::unsigned().with_identity(identity),
            requested: Requested::default(),
            allow_egress: false,
        }
    }

    /// A token for `identity` with the display name the request asked for
    /// (`participant_name`). The request's metadata, attributes and room configuration are
    /// kept aside: [`accept_metadata`](Self::accept_metadata),
    /// [`accept_attributes`](Self::accept_attributes),
    /// [`accept_agent_dispatch`](Self::accept_agent_dispatch) and
    /// [`accept_room_config`](Self::accept_room_config) put them in. Add the video grant
    /// yourself.
    pub fn from_request(request: &TokenRequest, identity: impl Into<String>) -> Self {
        let mut approval = TokenApproval::new(identity);
        if let Some(name) = &request.participant_name {
            approval = approval.with_name(name.clone());
        }
        approval.requested = Requested {
            metadata: request.participant_metadata.clone(),
            attributes: request.participant_attributes.clone(),
            room_config: request.room_config.clone(),
        };
        approval
    }

    /// Put the request's `participant_metadata` into the token, as the client wrote it.
    #[must_use]
    pub fn accept_metadata(mut self) -> Self {
        if let Some(metadata) = self.requested.metadata.take() {
            self.token = self.token.with_metadata(metadata);
        }
        self
    }

    /// Put the request's `participant_attributes` into the token, as the client wrote them.
    /// Only where attributes are not used for authorization: a client can write any.
    #[must_use]
    pub fn accept_attributes(mut self) -> Self {
        if let Some(attributes) = self.requested.attributes.take() {
            self.token = self.token.with_attributes(attributes);
        }
        self
    }

    /// Dispatch the agents the request's `room_config.agents` names (`agent_name`,
    /// `metadata`, `deployment`, ...), and take nothing else of its `room_config` (any other
    /// part the client sets is refused by name): the seed's flow, where the frontend says which
    /// agent joins the room it creates.
    #[must_use]
    pub fn accept_agent_dispatch(mut self) -> Self {
        let Some(agents) = self
            .requested
            .room_config
            .as_ref()
            .map(|config| config.agents.clone())
            .filter(|agents| !agents.is_empty())
        else {
            return self;
        };
        let mut config = self.token.room_config().cloned().unwrap_or_default();
        config.agents = agents;
        self.token = self.token.with_room_config(config);
        self
    }

    /// Put the request's whole `room_config` into the token: timeouts, limits, agents and the
    /// rest. Its `egress` still needs [`allow_egress`](Self::allow_egress).
    #[must_use]
    pub fn accept_room_config(mut self) -> Self {
        // `{}` (the Swift, Android and Flutter SDKs' default) asks for nothing: no roomConfig.
        if let Some(config) = self
            .requested
            .room_config
            .take()
            .filter(|config| *config != RoomConfiguration::default())
        {
            self.token = self.token.with_room_config(config);
        }
        self
    }

    /// The video grant.
    #[must_use]
    pub fn with_video_grant(mut self, grant: VideoGrant) -> Self {
        self.token = self.token.with_video_grant(grant);
        self
    }

    /// The display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.token = self.token.with_name(name);
        self
    }

    /// The participant kind.
    #[must_use]
    pub fn with_kind(mut self, kind: ParticipantKind) -> Self {
        self.token = self.token.with_kind(kind);
        self
    }

    /// The metadata, chosen by the policy.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.token = self.token.with_metadata(metadata);
        self
    }

    /// The attributes, chosen by the policy.
    #[must_use]
    pub fn with_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.token = self.token.with_attributes(attributes);
        self
    }

    /// The room configuration, chosen by the policy.
    #[must_use]
    pub fn with_room_config(mut self, config: RoomConfiguration) -> Self {
        self.token = self.token.with_room_config(config);
        self
    }

    /// The token's lifetime (default 6 hours).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.token = self.token.with_ttl(ttl);
        self
    }

    /// Allow `roomConfig.egress` in the token. Off by default: egress makes the server record
    /// or stream at the operator's cost, so only a trusted caller may ask for it.
    #[must_use]
    pub fn allow_egress(mut self) -> Self {
        self.allow_egress = true;
        self
    }
}

/// The policy's refusal: a status and a message for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRefusal {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl TokenRefusal {
    /// 401: the caller is not authenticated.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        TokenRefusal::with_status(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: the caller may not have this token.
    pub fn forbidden(message: impl Into<String>) -> Self {
        TokenRefusal::with_status(StatusCode::FORBIDDEN, message)
    }

    /// 400: the request makes no sense.
    pub fn bad_request(message: impl Into<String>) -> Self {
        TokenRefusal::with_status(StatusCode::BAD_REQUEST, message)
    }

    /// Any 4xx status; other statuses become 403.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::FORBIDDEN
        };
        TokenRefusal {
            status,
            message: message.into(),
        }
    }
}

/// Decides who gets which token. Any `Fn(Parts, TokenRequest) -> impl Future<Output =
/// Result<TokenApproval, TokenRefusal>>` is a policy; the request head is given so that the policy
/// can apply the application's own authentication (a session cookie, an API key header). To
/// refuse before the body is even read, give the endpoint a
/// [`with_head_check`](super::TokenEndpoint::with_head_check) as well.
pub trait TokenPolicy: Send + Sync + 'static {
    /// The future of a decision.
    type Future: Future<Output = Result<TokenApproval, TokenRefusal>> + Send + 'static;

    /// Decides for one request.
    fn decide(&self, head: http::request::Parts, request: TokenRequest) -> Self::Future;
}

impl<F, Fut> TokenPolicy for F
where
    F: Fn(http::request::Parts, TokenRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<TokenApproval, TokenRefusal>> + Send + 'static,
{
    type Future = Fut;

    fn decide(&self, head: http::request::Parts, request: TokenRequest) -> Fut {
        self(head, request)
    }
}
