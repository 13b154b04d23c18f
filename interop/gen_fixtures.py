"""Mints the Python-SDK, Go-shaped and quirk token fixtures and writes tests/fixtures/tokens.json.

Run through the wrapper:  bash interop/gen_fixtures.sh
or by hand (inside interop/.venv, after gen_fixtures.mjs wrote the Node cases):
    python interop/gen_fixtures.py <node-cases.json> <tokens-out.json>

- "python" cases: minted with livekit-api's AccessToken (wall clock; `now` is read back from the
  token's nbf/exp).
- "go-shaped" and "quirk" cases: built by hand here with hmac/base64 (no SDK) at fixed times, so
  they are byte-identical on every run.
Expected claims are literals written by hand per case from LiveKit's rules (spec §3); nothing here
computes permissions.
"""

import base64
import calendar
import datetime
import hashlib
import hmac
import json
import sys
import time
from importlib.metadata import version

from livekit import api
from livekit.protocol.agent_dispatch import JRP_NEVER

# Keep in sync with gen_fixtures.mjs.
K1 = "APIfixture0001"
S1 = "fixtureSecret0123456789abcdefghijklmnopqrst"
K2 = "APIfixture0002"
S2 = "fixtureSecretTwo0123456789ABCDEFGHIJKLMNOPQ"
WRONG_SECRET = "wrongSecret0123456789abcdefghijklmnopqrstuv"  # in no keyring
UNKNOWN_KEY = "APIunknown0000"  # in no keyring
KEYS = {K1: S1, K2: S2}

# Fixed clock for the hand-built tokens.
T0 = 1763900000  # iat / nbf
EXP = T0 + 6 * 3600  # 1763921600
NOW = T0 + 100  # verification time of hand-built accepted cases

PERM_FLAGS = [
    "roomJoin", "roomAdmin", "roomCreate", "roomList", "roomRecord", "ingressAdmin", "hidden",
    "recorder", "agent", "canPublish", "canSubscribe", "canPublishData", "canUpdateOwnMetadata",
    "canSubscribeMetrics",
]
SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio", "unknown"]
ALL_SOURCES = "camera microphone screen_share screen_share_audio unknown"
NO_SIP = {"admin": False, "call": False}


def perms(true_flags: str, true_sources: str = "") -> dict:
    """Expected permissions: name the flags that are TRUE; every other one is false."""
    t, s = set(true_flags.split()), set(true_sources.split())
    assert t <= set(PERM_FLAGS), t - set(PERM_FLAGS)
    assert s <= set(SOURCES), s - set(SOURCES)
    p = {f: f in t for f in PERM_FLAGS}
    p["sources"] = {f: f in s for f in SOURCES}
    return p


def claims(identity, room, permissions, *, api_key=K1, expires_at=EXP, name="", kind="standard",
           metadata="", attributes=None, sip=NO_SIP, agents=()):
    # `roomJoin` is the grant as written; joining also takes a room and an identity (spec §3).
    permissions = {**permissions, "canJoin": permissions["roomJoin"] and bool(room) and bool(identity)}
    return {
        "identity": identity, "name": name, "kind": kind, "metadata": metadata,
        "attributes": attributes or {}, "apiKey": api_key, "expiresAt": expires_at, "room": room,
        "permissions": permissions, "sip": sip, "roomConfigAgents": list(agents),
    }


CASES = []


def add(name, origin, description, token, now, expect, error=None, claims=None):
    assert name.replace("_", "").isalnum() and name == name.lower(), name
    assert all(c["name"] != name for c in CASES), f"duplicate {name}"
    assert (expect == "accept") == (error is None) and (claims is None or expect == "accept")
    CASES.append({"name": name, "origin": origin, "description": description, "token": token,
                  "now": now, "expect": expect, "error": error, "claims": claims})


# ---- JWS by hand ------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def js(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def jws(header, payload, secret=S1, digest=hashlib.sha256) -> str:
    """header/payload: dict (serialized compactly) or str (used verbatim, for duplicate keys)."""
    h = header if isinstance(header, str) else js(header)
    p = payload if isinstance(payload, str) else js(payload)
    signing_input = f"{b64(h.encode())}.{b64(p.encode())}"
    sig = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(sig)}"


GO_HEADER = {"alg": "HS256", "typ": "JWT"}


def go_token(grant: dict, secret=S1) -> str:
    """Shaped like livekit/protocol's Go AccessToken: go-jose sorts the merged claim keys."""
    return jws(GO_HEADER, dict(sorted(grant.items())), secret)


def decode_part(token: str, i: int) -> dict:
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# ---- Python SDK cases -------------------------------------------------------------------------

def mint(at: api.AccessToken, ttl: int = 6 * 3600) -> tuple:
    before = calendar.timegm(time.gmtime())
    token = at.to_jwt()
    after = calendar.timegm(time.gmtime())
    header, p = decode_part(token, 0), decode_part(token, 1)
    assert header == {"alg": "HS256", "typ": "JWT"}, header
    assert before <= p["nbf"] <= after, "python sets nbf to the mint time"
    assert "iat" not in p and "sub" in p, "python writes sub (maybe empty), no iat"
    assert p["exp"] - p["nbf"] == ttl
    return token, p


def python_cases():
    at = (api.AccessToken(K1, S1).with_identity("dave").with_name("Dävé 😀")
          .with_metadata('{"x":[1,2],"quote":"\\""}')
          .with_attributes({"lang": "de", "json": '{"a":true}'})
          .with_grants(api.VideoGrants(room_join=True, room="pyroom",
                                       can_publish_sources=["camera", "microphone"],
                                       can_update_own_metadata=True, can_subscribe_metrics=True,
                                       hidden=False)))
    tok, p = mint(at)
    assert p["video"]["canPublish"] is True and p["video"]["canPublishData"] is True
    assert "\\u00e4" in base64.urlsafe_b64decode(tok.split(".")[1] + "==").decode()
    add("python_join_video_grants", "python",
        "Python VideoGrants (explicit true/false booleans), \\u-escaped non-ASCII name, metadata, attributes",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "dave", "pyroom",
            perms("roomJoin canPublish canSubscribe canPublishData canUpdateOwnMetadata "
                  "canSubscribeMetrics", "camera microphone"),
            name="Dävé 😀", metadata='{"x":[1,2],"quote":"\\""}',
            attributes={"lang": "de", "json": '{"a":true}'}, expires_at=p["exp"]))

    at = (api.AccessToken(K2, S2).with_identity("sip-caller").with_kind("sip")
          .with_sip_grants(api.SIPGrants(call=True)))
    tok, p = mint(at)
    assert p["sip"] == {"admin": False, "call": True} and "video" not in p
    add("python_sip_grants", "python", "Python SIPGrants(call=True) writes both booleans; kind sip",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "sip-caller", "", perms(""), api_key=K2, kind="sip",
            sip={"admin": False, "call": True}, expires_at=p["exp"]))

    config = api.RoomConfiguration(
        name="pyroom", empty_timeout=30, max_participants=10, tags={"tier": "gold"},
        agents=[api.RoomAgentDispatch(agent_name="py-agent", metadata='{"k":"v"}',
                                      restart_policy=JRP_NEVER),
                api.RoomAgentDispatch(agent_name="second")])
    at = (api.AccessToken(K1, S1).with_identity("erin").with_room_preset("preset-b")
          .with_grants(api.VideoGrants(room_join=True, room="pyroom")).with_room_config(config))
    tok, p = mint(at)
    assert p["roomConfig"]["agents"][0]["restartPolicy"] == "JRP_NEVER"
    assert "departureTimeout" not in p["roomConfig"], "python omits proto defaults"
    add("python_room_config_agents", "python",
        "Python with_room_config (MessageToDict: camelCase, defaults omitted) with two agents",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "erin", "pyroom", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES),
            agents=["py-agent", "second"], expires_at=p["exp"]))

    at = (api.AccessToken(K1, S1).with_identity("py-agent-1").with_kind("agent")
          .with_metadata('{"job":"j1"}').with_attributes({"lk.agent.state": "listening", "e": ""})
          .with_grants(api.VideoGrants(room_join=True, room="r", can_publish_data=False)))
    tok, p = mint(at)
    add("python_kind_agent", "python",
        "Python with_kind('agent') (video.agent unset), attributes incl. empty value, canPublishData false",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "py-agent-1", "r", perms("roomJoin agent canPublish canSubscribe", ALL_SOURCES),
            kind="agent", metadata='{"job":"j1"}', attributes={"lk.agent.state": "listening", "e": ""},
            expires_at=p["exp"]))

    at = (api.AccessToken(K1, S1).with_identity("EG_py").with_kind("egress")
          .with_grants(api.VideoGrants(room_join=True, room="r", room_record=True, hidden=True,
                                       can_subscribe=True)))
    tok, p = mint(at)
    add("python_kind_egress", "python", "Python with_kind('egress') => recorder; roomRecord, hidden",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "EG_py", "r",
            perms("roomJoin roomRecord hidden recorder canPublish canSubscribe canPublishData", ALL_SOURCES),
            kind="egress", expires_at=p["exp"]))

    at = (api.AccessToken(K1, S1).with_identity("py-viewer")
          .with_grants(api.VideoGrants(room_join=True, room="stage", can_publish=False)))
    tok, p = mint(at)
    assert p["video"]["canPublishData"] is True, "python writes canPublishData=True by default"
    add("python_publish_false_writes_data_true", "python",
        "Python can_publish=False still writes canPublishData:true (its dataclass default), so data is allowed",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "py-viewer", "stage", perms("roomJoin canSubscribe canPublishData", ""),
            expires_at=p["exp"]))

    # No identity: Python writes "sub":"" and no jti, so the identity is empty.
    at = api.AccessToken(K1, S1).with_grants(
        api.VideoGrants(room_admin=True, room="adminroom", room_list=True, room_create=True))
    tok, p = mint(at)
    assert p["sub"] == "" and "jti" not in p
    add("python_no_identity_admin", "python",
        "Python token without identity: writes sub \"\" (no jti) => identity empty; admin of its room",
        tok, p["nbf"] + 5, "accept", claims=claims(
            "", "adminroom",
            perms("roomAdmin roomCreate roomList canPublish canSubscribe canPublishData", ALL_SOURCES),
            expires_at=p["exp"]))
    try:
        api.AccessToken(K1, S1).with_grants(api.VideoGrants(room_join=True, room="r")).to_jwt()
        raise AssertionError("python must refuse a join token without identity")
    except ValueError:
        pass

    at = (api.AccessToken(K1, S1).with_identity("ops")
          .with_agent_grants(api.AgentGrants(admin=True, dispatch_admin=True))
          .with_inference_grants(api.InferenceGrants(perform=True))
          .with_observability_grants(api.ObservabilityGrants(write=True)))
    tok, p = mint(at)
    assert p["agent"]["admin"] is True and "video" not in p
    add("python_agent_inference_observability", "python",
        "Python top-level agent/inference/observability grants; the top-level `agent` object is not video.agent",
        tok, p["nbf"] + 5, "accept", claims=claims("ops", "", perms(""), expires_at=p["exp"]))

    at = api.AccessToken(K1, S1).with_identity("frank")
    tok, p = mint(at)
    assert set(p) == {"sub", "iss", "nbf", "exp"}, p
    add("python_bare_identity_only", "python", "Python token with only an identity (sub, iss, nbf, exp)",
        tok, p["nbf"] + 5, "accept", claims=claims("frank", "", perms(""), expires_at=p["exp"]))

    at = (api.AccessToken(K2, S2).with_identity("py-short").with_ttl(datetime.timedelta(seconds=30))
          .with_grants(api.VideoGrants(room_join=True, room="r")))
    tok, p = mint(at, ttl=30)
    add("python_ttl_expired", "python", "Python ttl 30 s verified at exp+60: expired",
        tok, p["exp"] + 60, "reject", "expired")

    at = (api.AccessToken(K2, WRONG_SECRET).with_identity("mallory")
          .with_grants(api.VideoGrants(room_join=True, room="r")))
    tok, p = mint(at)
    add("python_wrong_secret", "python", "Python token whose iss is known but signed with another secret",
        tok, p["nbf"] + 5, "reject", "invalid_signature")


# ---- Go-shaped and Rust-SDK-shaped (hand-built) -----------------------------------------------

def go_cases():
    tok = go_token({
        "iss": K1, "sub": "frank", "identity": "frank", "jti": "frank", "nbf": T0, "iat": T0,
        "exp": EXP, "name": "Frank", "kind": "agent",
        "kindDetails": ["cloud_agent", "forwarded", "not_a_kind_detail"],
        "metadata": "{\"m\":1}", "attributes": {"a": "b"},
        "video": {"room": "gor", "roomJoin": True, "canPublish": True, "canSubscribe": True,
                  "canPublishData": False, "canPublishSources": ["microphone"],
                  "canUpdateOwnMetadata": True},
    })
    add("go_join_full", "go-shaped",
        "Go shape: typ JWT header, sorted keys, identity/jti/iat=nbf, kind agent, kindDetails with an unknown entry",
        tok, NOW, "accept", claims=claims(
            "frank", "gor", perms("roomJoin agent canPublish canSubscribe canUpdateOwnMetadata", "microphone"),
            name="Frank", kind="agent", metadata="{\"m\":1}", attributes={"a": "b"}))

    tok = go_token({"iss": K1, "sub": "real-sub", "identity": "claimed-identity", "nbf": T0,
                    "iat": T0, "exp": EXP, "video": {"room": "r", "roomJoin": True}})
    add("go_identity_key_ignored", "go-shaped", "sub wins; the Go `identity` key is ignored",
        tok, NOW, "accept", claims=claims(
            "real-sub", "r", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)))

    tok = go_token({"iss": K1, "identity": "claimed-identity", "nbf": T0, "iat": T0, "exp": EXP,
                    "video": {"room": "r", "roomJoin": True}})
    add("go_identity_key_only", "go-shaped",
        "Only the Go `identity` key (no sub, no jti): identity is empty, so the join grant "
        "(roomJoin) does not make canJoin",
        tok, NOW, "accept", claims=claims(
            "", "r", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)))

    tok = go_token({"iss": K1, "jti": "from-jti", "nbf": T0, "exp": EXP,
                    "video": {"room": "r", "roomJoin": True}})
    add("go_identity_from_jti", "go-shaped", "no sub: identity falls back to jti",
        tok, NOW, "accept", claims=claims(
            "from-jti", "r", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)))

    tok = go_token({"iss": K1, "sub": "", "jti": "jti-id", "nbf": T0, "iat": T0, "exp": EXP,
                    "video": {"room": "r", "roomJoin": True}})
    add("go_empty_sub_uses_jti", "go-shaped", "sub \"\": identity falls back to jti",
        tok, NOW, "accept", claims=claims(
            "jti-id", "r", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)))

    tok = go_token({"iss": K2, "sub": "sip-bridge", "identity": "sip-bridge", "nbf": T0, "iat": T0,
                    "exp": EXP, "kind": "sip", "kindDetails": ["connector_twilio"],
                    "sip": {"admin": True}}, secret=S2)
    add("go_sip_admin", "go-shaped", "Go-shaped SIP admin grant (partial sip object), kind sip",
        tok, NOW, "accept", claims=claims(
            "sip-bridge", "", perms(""), api_key=K2, kind="sip", sip={"admin": True, "call": False}))

    # livekit-api (Rust) writes every field, `"kind":""`, `"sha256":""`, and `"roomConfig":null`.
    tok = jws('{"typ":"JWT","alg":"HS256"}', {
        "exp": EXP, "iss": K1, "nbf": T0, "sub": "rusty", "name": "Rusty",
        "video": {"roomCreate": False, "roomList": False, "roomRecord": False, "roomAdmin": False,
                  "roomJoin": True, "room": "rustroom", "destinationRoom": "", "canPublish": True,
                  "canSubscribe": True, "canPublishData": True, "canPublishSources": [],
                  "canUpdateOwnMetadata": False, "ingressAdmin": False, "hidden": False,
                  "recorder": False},
        "sip": {"admin": False, "call": False}, "sha256": "", "metadata": "", "attributes": {},
        "roomPreset": "", "roomConfig": None, "kind": "",
    })
    add("rust_sdk_shape_room_config_null", "go-shaped",
        "Rust SDK shape: header {typ,alg}, every field written, kind \"\", canPublishSources [], roomConfig null",
        tok, NOW, "accept", claims=claims(
            "rusty", "rustroom", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES),
            name="Rusty"))


# ---- quirks (hand-built) ----------------------------------------------------------------------

def base(**extra):
    p = {"iss": K1, "sub": "q", "nbf": T0, "exp": EXP}
    p.update(extra)
    return p


JOIN_R = {"roomJoin": True, "room": "r"}
JOIN_R_DEFAULT_PERMS = perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)


def quirk_cases():
    def q_accept(name, desc, payload, expected, now=NOW, header=GO_HEADER, secret=S1):
        add(name, "quirk", desc, jws(header, payload, secret), now, "accept", claims=expected)

    def q_reject(name, desc, error, payload=None, now=NOW, header=GO_HEADER, secret=S1, token=None):
        add(name, "quirk", desc, token or jws(header, payload, secret), now, "reject", error)

    # -- tolerated shapes
    q_accept("quirk_float_exp_nbf", "float NumericDates exp=…600.5, nbf=…000.25 (expiresAt is the whole second)",
             '{"iss":"%s","sub":"q","nbf":%s.25,"exp":%s.5,"video":{"roomJoin":true,"room":"r"}}' % (K1, T0, EXP),
             claims("q", "r", JOIN_R_DEFAULT_PERMS))
    q_accept("quirk_video_snake_case_keys", "snake_case room_join/can_publish inside video are ignored",
             base(video={"room_join": True, "room": "r", "can_publish": False}),
             claims("q", "r", perms("canPublish canSubscribe canPublishData", ALL_SOURCES)))
    q_accept("quirk_kind_upper_case_agent", 'kind "AGENT" matches agent case-insensitively',
             base(kind="AGENT", video=JOIN_R),
             claims("q", "r", perms("roomJoin agent canPublish canSubscribe canPublishData", ALL_SOURCES),
                    kind="agent"))
    q_accept("quirk_kind_mixed_case_egress", 'kind "Egress" => egress => recorder',
             base(kind="Egress", video=JOIN_R),
             claims("q", "r", perms("roomJoin recorder canPublish canSubscribe canPublishData", ALL_SOURCES),
                    kind="egress"))
    q_accept("quirk_kind_unknown_robot", 'unknown kind "robot" => standard',
             base(kind="robot", video=JOIN_R), claims("q", "r", JOIN_R_DEFAULT_PERMS))
    q_accept("quirk_sources_upper_case", '"CAMERA" does not match camera; "microphone" does',
             base(video={**JOIN_R, "canPublishSources": ["CAMERA", "microphone"]}),
             claims("q", "r", perms("roomJoin canPublish canSubscribe canPublishData", "microphone")))
    q_accept("quirk_sources_screen_share_and_unknown",
             'sources ["screen_share","unknown"]: screen_share_audio not implied',
             base(video={**JOIN_R, "canPublishSources": ["screen_share", "unknown"]}),
             claims("q", "r", perms("roomJoin canPublish canSubscribe canPublishData", "screen_share unknown")))
    q_accept("quirk_publish_false_beats_sources", "canPublish:false beats a listed source; data follows canPublish",
             base(video={**JOIN_R, "canPublish": False, "canPublishSources": ["camera"]}),
             claims("q", "r", perms("roomJoin canSubscribe", "")))
    q_accept("quirk_nulls_mean_absent", "null for optional keys (name, metadata, attributes, nbf, sip, kind, roomConfig, tri-states)",
             {"iss": K1, "sub": "q", "exp": EXP, "nbf": None, "name": None, "metadata": None,
              "attributes": None, "sip": None, "kind": None, "roomConfig": None, "roomPreset": None,
              "jti": None, "video": {**JOIN_R, "canPublish": None, "canPublishData": None,
                                     "canSubscribe": None, "canPublishSources": None}},
             claims("q", "r", JOIN_R_DEFAULT_PERMS))
    q_accept("quirk_sip_partial", 'partial sip {"call":true}', base(sip={"call": True}),
             claims("q", "", perms(""), sip={"admin": False, "call": True}))
    q_accept("quirk_room_config_snake_case", "roomConfig with snake_case keys, restart_policy as a number, unknown key",
             base(video=JOIN_R, roomConfig={
                 "name": "r", "empty_timeout": 30, "max_participants": 5, "unknownField": {"x": 1},
                 "agents": [{"agent_name": "snake-agent", "metadata": "m", "restart_policy": 1},
                            {"agentName": "camel-agent", "restartPolicy": "JRP_NEVER"}]}),
             claims("q", "r", JOIN_R_DEFAULT_PERMS, agents=["snake-agent", "camel-agent"]))
    q_accept("quirk_unknown_keys_ignored", "unknown keys at the top level and inside video are ignored",
             base(futureClaim={"a": [1, 2]}, video={**JOIN_R, "futureFlag": True}),
             claims("q", "r", JOIN_R_DEFAULT_PERMS))
    q_accept("quirk_kid_and_aud_ignored", "kid header and aud claim are ignored (no audience configured)",
             base(aud="someone-else", video=JOIN_R), claims("q", "r", JOIN_R_DEFAULT_PERMS),
             header={"alg": "HS256", "kid": "key-1", "typ": "JWT"})
    q_accept("quirk_join_without_identity",
             "roomJoin + room but no sub/jti: the join grant stands, identity is empty, so canJoin is false",
             {"iss": K1, "nbf": T0, "exp": EXP, "video": JOIN_R},
             claims("", "r", perms("roomJoin canPublish canSubscribe canPublishData", ALL_SOURCES)))
    q_accept("quirk_admin_without_room", "roomAdmin without a room: not admin of anything",
             base(video={"roomAdmin": True, "roomList": True}),
             claims("q", "", perms("roomList canPublish canSubscribe canPublishData", ALL_SOURCES)))
    q_accept("quirk_non_ascii_utf8", "raw UTF-8 (not \\u-escaped) in name, identity and attribute keys",
             base(sub="zoë", name="Zoë 😀 中文", attributes={"ключ": "значение"}, video=JOIN_R),
             claims("zoë", "r", JOIN_R_DEFAULT_PERMS, name="Zoë 😀 中文", attributes={"ключ": "значение"}))

    # -- clock edges (leeway 60 s)
    edge = base(video=JOIN_R)
    q_accept("quirk_exp_leeway_edge_accept", "now = exp+59: accepted", edge, claims("q", "r", JOIN_R_DEFAULT_PERMS),
             now=EXP + 59)
    q_reject("quirk_exp_leeway_edge_reject", "now = exp+60: expired", "expired", edge, now=EXP + 60)
    q_accept("quirk_nbf_leeway_edge_accept", "now = nbf-60: accepted", edge, claims("q", "r", JOIN_R_DEFAULT_PERMS),
             now=T0 - 60)
    q_reject("quirk_nbf_leeway_edge_reject", "now = nbf-61: not yet valid", "not_yet_valid", edge, now=T0 - 61)
    q_accept("quirk_iat_future_within_leeway", "iat = now+60: accepted",
             base(iat=NOW + 60, video=JOIN_R), claims("q", "r", JOIN_R_DEFAULT_PERMS))
    q_reject("quirk_iat_future", "iat = now+61: issued in the future", "issued_in_future",
             base(iat=NOW + 61, video=JOIN_R))

    # -- invalid claims
    q_reject("quirk_exp_string", "exp as a JSON string", "invalid_claim",
             base(exp=str(EXP), video=JOIN_R))
    q_reject("quirk_nbf_string", "nbf as a JSON string", "invalid_claim", base(nbf=str(T0), video=JOIN_R))
    q_reject("quirk_attribute_not_string", "attribute value is a number", "invalid_claim",
             base(attributes={"a": "ok", "n": 1}))
    q_reject("quirk_video_string", "video is a string", "invalid_claim", base(video="roomJoin"))
    q_reject("quirk_video_array", "video is an array", "invalid_claim", base(video=[JOIN_R]))
    q_reject("quirk_can_publish_string", 'video.canPublish is the string "true"', "invalid_claim",
             base(video={**JOIN_R, "canPublish": "true"}))
    q_reject("quirk_sub_number", "sub is a number", "invalid_claim", base(sub=42, video=JOIN_R))

    # -- structural / policy rejections
    q_reject("quirk_missing_exp", "no exp", "missing_expiry", {"iss": K1, "sub": "q", "nbf": T0, "video": JOIN_R})
    q_reject("quirk_missing_iss", "no iss", "missing_issuer", {"sub": "q", "nbf": T0, "exp": EXP, "video": JOIN_R})
    add("quirk_alg_hs384", "quirk", "alg HS384 (correctly signed with HS384)",
        jws({"alg": "HS384", "typ": "JWT"}, base(video=JOIN_R), S1, hashlib.sha384), NOW, "reject",
        "unsupported_algorithm")
    none_input = f"{b64(js({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(js(base(video=JOIN_R)).encode())}"
    q_reject("quirk_alg_none", "alg none with an empty signature", "unsupported_algorithm", token=none_input + ".")
    q_reject("quirk_alg_lower_case", 'alg "hs256" (correctly HMAC-SHA256 signed)', "unsupported_algorithm",
             base(video=JOIN_R), header={"alg": "hs256", "typ": "JWT"})
    q_reject("quirk_crit_header", "header with crit", "malformed", base(video=JOIN_R),
             header={"alg": "HS256", "typ": "JWT", "crit": ["x-ext"], "x-ext": True})
    q_reject("quirk_duplicate_exp", "payload with two exp keys (one expired)", "malformed",
             '{"iss":"%s","sub":"q","exp":%d,"nbf":%d,"exp":%d}' % (K1, EXP, T0, T0 - 1000))
    q_reject("quirk_duplicate_alg", 'header {"alg":"none","alg":"HS256"}', "malformed",
             base(video=JOIN_R), header='{"alg":"none","alg":"HS256"}')
    good = jws(GO_HEADER, base(video=JOIN_R))
    h, p, s = good.split(".")
    q_reject("quirk_two_segments", "only header.payload", "malformed", token=f"{h}.{p}")
    q_reject("quirk_bad_base64", "payload segment is not base64url", "malformed", token=f"{h}.!!!{p}.{s}")
    q_reject("quirk_payload_not_json", "payload decodes to non-JSON text (correctly signed)", "malformed",
             "not json at all")
    tampered = b64(js(base(sub="q", video={**JOIN_R, "roomAdmin": True})).encode())
    q_reject("quirk_payload_tampered", "payload changed after signing", "invalid_signature", token=f"{h}.{tampered}.{s}")
    flipped = ("B" if s[0] == "A" else "A") + s[1:]
    q_reject("quirk_signature_tampered", "first signature character changed", "invalid_signature",
             token=f"{h}.{p}.{flipped}")
    q_reject("quirk_unknown_key", "iss not in the keyring", "unknown_key",
             {"iss": UNKNOWN_KEY, "sub": "q", "nbf": T0, "exp": EXP})

    # -- size limit (default 16 KiB = 16384 bytes of token text)
    def sized(length):
        for n in range(length):
            t = jws(GO_HEADER, base(metadata="x" * n))
            if len(t) >= length:
                return t
    at_limit, over = sized(16384), sized(16385)
    assert len(at_limit) == 16384 and len(over) == 16385, (len(at_limit), len(over))
    md = decode_part(at_limit, 1)["metadata"]
    add("quirk_token_at_size_limit", "quirk", "token exactly 16384 bytes long: accepted",
        at_limit, NOW, "accept", claims=claims("q", "", perms(""), metadata=md))
    q_reject("quirk_token_too_long", "token 16385 bytes long", "token_too_long", token=over)


def self_check(case):
    """Sanity-checks a fixture's signature and clock against its own verdict (not the claims)."""
    token, now = case["token"], case["now"]
    err = case["error"]
    if err in ("malformed", "token_too_long", "unsupported_algorithm", "invalid_claim"):
        return
    h, p, s = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    secret = KEYS.get(payload.get("iss"))
    if err in ("unknown_key", "missing_issuer"):
        assert secret is None, case["name"]
        return
    mac = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    assert (b64(mac) == s) == (err != "invalid_signature"), case["name"]
    if err is None:
        assert now < payload["exp"] + 60 and now >= (payload.get("nbf") or 0) - 60, case["name"]
        assert len(token) <= 16384 and case["claims"]["expiresAt"] == int(payload["exp"]), case["name"]
    elif err == "expired":
        assert now >= payload["exp"] + 60, case["name"]
    elif err == "not_yet_valid":
        assert now < payload["nbf"] - 60, case["name"]


def main():
    node_path, out_path = sys.argv[1:3]
    with open(node_path, encoding="utf-8") as f:
        node = json.load(f)
    assert node["keys"] == KEYS, "key sets of the two generators differ"
    python_cases()
    go_cases()
    quirk_cases()
    for c in node["cases"]:
        add(c["name"], c["origin"], c["description"], c["token"], c["now"], c["expect"],
            c["error"], c["claims"])
    for c in CASES:
        self_check(c)
    out = {
        "generator": "interop/gen_fixtures.sh",
        "sdk_versions": {"node": node["sdk_version"], "python": f"livekit-api {version('livekit-api')}"},
        "keys": KEYS,
        "cases": sorted(CASES, key=lambda c: ["node", "python", "go-shaped", "quirk"].index(c["origin"])),
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"python: {len(CASES)} token cases in total written to {out_path}")


if __name__ == "__main__":
    main()
