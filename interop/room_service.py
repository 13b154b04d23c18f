"""Interop check: the official Python SDK's RoomService client (livekit-api, pinned in
requirements.txt: `LiveKitAPI(url, key, secret).room`, which speaks twirp in protobuf,
`Content-Type: application/protobuf`) against a LiveKit-compatible server such as
`lkauth serve`, then "both SDKs, one state" with the Node SDK (room_service_peer.mjs).

Usage (inside interop/.venv, after `bash interop/setup.sh --python`):
    LIVEKIT_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... \\
        .venv/bin/python interop/room_service.py

A participant joins with can_publish=False (GET /rtc/validate with a join token from the SDK's
AccessToken), is promoted and changed with update_participant and removed with
remove_participant(revoke_token_ts=...), and its ORIGINAL token answers on the demo's
participant routes (GET /whoami, POST /rooms/{room}/publish) with the state as it is now.
Prints one line per check, then "N passed, M failed"; exits 1 on any failure. Every request
has a 10 s timeout, every Node run 30 s.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import jwt
from livekit import api

URL = os.environ.get("LIVEKIT_URL")
KEY = os.environ.get("LIVEKIT_API_KEY")
SECRET = os.environ.get("LIVEKIT_API_SECRET")
TIMEOUT = aiohttp.ClientTimeout(total=10)
NODE_TIMEOUT_S = 30
PEER = Path(__file__).with_name("room_service_peer.mjs")
REFRESH_HEADER = "x-livekit-refresh-token"

ROOM = "py-stage"
ADA = "py-ada"
CROSS_ROOM = "cross-stage"
SAM = "cross-sam"

passed = 0
failed = 0


async def check(name, fn):
    """Runs one check: `ok` with its detail, or `FAIL` with what went wrong."""
    global passed, failed
    try:
        detail = await fn()
        passed += 1
        print(f"ok   {name}{f' ({detail})' if detail else ''}", flush=True)
    except Exception as e:  # every failure is a line; the run goes on
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


async def expect_server_error(call, status, code):
    """Awaits `call`, which must fail with a ServerError of this HTTP status and twirp code."""
    try:
        await call
    except api.ServerError as e:
        expect(
            (e.status, e.code) == (status, code),
            f"expected {status} {code}, got status={e.status} code={e.code} message={e.message}",
        )
        return f"status={e.status} code={e.code}"
    raise AssertionError(f"expected an error {status} {code}, the call succeeded")


class Demo:
    """The demo's participant routes, called as a participant would."""

    def __init__(self, session):
        self.session = session

    async def _send(self, method, path, token, body=None):
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.request(
            method, f"{URL}{path}", headers=headers, json=body
        ) as resp:
            return resp.status, resp.headers.get(REFRESH_HEADER), await resp.text()

    async def validate(self, token):
        return (await self._send("GET", "/rtc/validate", token))[0]

    async def whoami(self, token):
        status, _, body = await self._send("GET", "/whoami", token)
        expect(status == 200, f"GET /whoami: {status} {body}")
        return json.loads(body)

    async def whoami_status(self, token):
        return (await self._send("GET", "/whoami", token))[0]

    async def publish(self, room, token, source):
        status, refresh, _ = await self._send(
            "POST", f"/rooms/{room}/publish", token, {"source": source}
        )
        return status, refresh


def ada_token():
    grants = api.VideoGrants(room_join=True, room=ROOM, can_publish=False)
    return (
        api.AccessToken(KEY, SECRET)
        .with_identity(ADA)
        .with_name("Ada")
        .with_metadata("m0")
        .with_attributes({"seat": "7"})
        .with_grants(grants)
        .to_jwt()
    )


def with_not_before(token, nbf):
    """`token` (from the SDK's AccessToken, which always sets nbf = now) issued at `nbf`
    instead, signed again with PyJWT (the SDK's own signer): a token "minted after" a cutoff in
    the future, without waiting for the clock (the verifier accepts an nbf up to 60 s ahead)."""
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)
    claims["nbf"] = nbf
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def node(*args):
    """One run of room_service_peer.mjs: its JSON answer."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(PEER),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT_S)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"node {PEER.name} {args[0]} took over {NODE_TIMEOUT_S} s")
    expect(proc.returncode == 0, f"node {PEER.name} {args[0]} failed: {err.decode()}")
    return json.loads(out)


async def python_flow(lk, demo):
    room = lk.room
    state = {}

    async def create():
        r = await room.create_room(
            api.CreateRoomRequest(name=ROOM, empty_timeout=60, max_participants=5)
        )
        expect(r.name == ROOM, f"room {r}")
        return f"sid={r.sid}"

    async def list_filtered():
        rooms = (await room.list_rooms(api.ListRoomsRequest(names=[ROOM]))).rooms
        expect([r.name for r in rooms] == [ROOM], f"rooms {[r.name for r in rooms]}")

    async def metadata():
        r = await room.update_room_metadata(
            api.UpdateRoomMetadataRequest(room=ROOM, metadata='{"py":1}')
        )
        expect(r.metadata == '{"py":1}', f"metadata {r.metadata!r}")

    async def empty():
        ps = (await room.list_participants(api.ListParticipantsRequest(room=ROOM))).participants
        expect(len(ps) == 0, f"participants {[p.identity for p in ps]}")

    await check("create_room returns the room", create)
    await check("list_rooms(names=[room]) filters", list_filtered)
    await check("update_room_metadata returns the metadata", metadata)
    await check("list_participants is empty before anyone joins", empty)

    original = ada_token()

    async def join():
        expect(await demo.validate(original) == 200, "GET /rtc/validate refused the join token")
        ps = (await room.list_participants(api.ListParticipantsRequest(room=ROOM))).participants
        expect([p.identity for p in ps] == [ADA], f"participants {[p.identity for p in ps]}")
        expect(not ps[0].permission.can_publish, f"permission {ps[0].permission}")

    async def denied():
        status, _ = await demo.publish(ROOM, original, "microphone")
        expect(status == 403, f"publish microphone: {status}")

    await check("a participant joins with can_publish=False and list_participants lists it", join)
    await check("its original token may not publish the microphone (403)", denied)

    async def update():
        info = await room.update_participant(
            api.UpdateParticipantRequest(
                room=ROOM,
                identity=ADA,
                metadata="speaker",
                attributes={"role": "host", "seat": ""},
                permission=api.ParticipantPermission(
                    can_subscribe=True,
                    can_publish=True,
                    can_publish_sources=[api.TrackSource.MICROPHONE],
                ),
            )
        )
        expect(info.identity == ADA and info.metadata == "speaker", f"info {info}")
        expect(info.name == "Ada", f"an update without a name keeps it: {info.name!r}")
        expect(dict(info.attributes) == {"role": "host"}, f"attributes {dict(info.attributes)}")
        p = info.permission
        expect(p.can_subscribe and p.can_publish and not p.can_publish_data, f"permission {p}")
        expect(list(p.can_publish_sources) == [api.TrackSource.MICROPHONE], f"sources {p}")
        expect(info.state == api.ParticipantInfo.ACTIVE, f"state {info.state}")
        expect(info.joined_at > 0, f"joined_at {info.joined_at}")
        return f"sid={info.sid}"

    await check(
        "update_participant(metadata, attributes, permission) returns the new ParticipantInfo",
        update,
    )

    async def now_may():
        status, refresh = await demo.publish(ROOM, original, "microphone")
        expect(status == 204, f"publish microphone: {status}")
        expect(refresh, f"no {REFRESH_HEADER} header after the update")
        state["refreshed"] = refresh
        status, _ = await demo.publish(ROOM, original, "camera")
        expect(status == 403, f"publish camera: {status}")

    async def whoami():
        me = await demo.whoami(original)
        expect(me["metadata"] == "speaker" and me["name"] == "Ada", f"whoami {me}")
        expect(me["attributes"] == {"role": "host"}, f"attributes {me['attributes']}")
        perms = me["permissions"]
        expect(
            perms["canPublishData"] is False,
            f"the permission replaces the grant as a whole (the token said canPublishData): {perms}",
        )
        expect(perms["sources"]["microphone"] and not perms["sources"]["camera"], f"{perms}")

    async def refreshed():
        token = state.get("refreshed")
        expect(token, "no refreshed token to verify")
        claims = api.TokenVerifier(KEY, SECRET).verify(token)
        v = claims.video
        expect(claims.identity == ADA and v.room_join and v.room == ROOM, f"claims {claims}")
        expect(v.can_publish and not v.can_publish_data, f"video {v}")
        expect(v.can_publish_sources == ["microphone"], f"sources {v.can_publish_sources}")
        expect(claims.metadata == "speaker", f"metadata {claims.metadata!r}")
        expect(claims.attributes == {"role": "host"}, f"attributes {claims.attributes}")

    async def get():
        info = await room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=ADA))
        expect(info.metadata == "speaker" and dict(info.attributes) == {"role": "host"}, f"{info}")
        expect(list(info.permission.can_publish_sources) == [api.TrackSource.MICROPHONE], f"{info}")

    await check(
        "the same original token now publishes the microphone (204), not the camera (403)",
        now_may,
    )
    await check(
        "GET /whoami with the original token shows the new metadata, attributes, grants",
        whoami,
    )
    await check(
        "the refresh header's token, verified by the SDK's TokenVerifier, carries the new grants",
        refreshed,
    )
    await check("get_participant returns the state", get)

    async def unknown():
        return await expect_server_error(
            room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity="nobody")),
            404,
            "not_found",
        )

    async def wrong_secret():
        async with api.LiveKitAPI(URL, KEY, f"{SECRET}-wrong", timeout=TIMEOUT, failover=False) as bad:
            return await expect_server_error(
                bad.room.list_rooms(api.ListRoomsRequest()), 401, "unauthenticated"
            )

    async def join_only():
        async with api.LiveKitAPI.with_token(original, URL, timeout=TIMEOUT, failover=False) as lk2:
            return await expect_server_error(
                lk2.room.update_participant(
                    api.UpdateParticipantRequest(room=ROOM, identity=ADA, metadata="self")
                ),
                403,
                "permission_denied",
            )

    await check("get_participant of an identity not in the room is not_found (404)", unknown)
    await check("a wrong secret is refused as unauthenticated (401)", wrong_secret)
    await check(
        "a join token (no roomAdmin) may not update_participant: permission_denied (403)",
        join_only,
    )

    # revoke_token_ts 30 s ahead: the tokens issued before it are refused, one issued at it is
    # accepted. With the default cutoff (now + 60 s) that one would be refused too.
    cutoff = int(time.time()) + 30

    async def remove():
        await room.remove_participant(
            api.RoomParticipantIdentity(room=ROOM, identity=ADA, revoke_token_ts=cutoff)
        )

    async def refused():
        statuses = [
            await demo.validate(original),
            await demo.whoami_status(original),
            (await demo.publish(ROOM, original, "microphone"))[0],
        ]
        expect(statuses == [401, 401, 401], f"validate, whoami, publish: {statuses}")
        refreshed = state.get("refreshed")
        expect(refreshed, "no refreshed token to present")
        expect(await demo.whoami_status(refreshed) == 401, "the refreshed token was accepted")

    async def gone():
        ps = (await room.list_participants(api.ListParticipantsRequest(room=ROOM))).participants
        expect(ADA not in [p.identity for p in ps], f"participants {[p.identity for p in ps]}")
        return await expect_server_error(
            room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=ADA)),
            404,
            "not_found",
        )

    async def before_cutoff():
        status = await demo.validate(with_not_before(ada_token(), cutoff - 1))
        expect(status == 401, f"nbf = cutoff - 1: {status}")

    async def at_cutoff():
        late = with_not_before(ada_token(), cutoff)
        expect(await demo.validate(late) == 200, "nbf = revoke_token_ts was refused")
        me = await demo.whoami(late)
        expect(me["metadata"] == "m0" and me["attributes"] == {"seat": "7"}, f"updates cleared: {me}")
        status, _ = await demo.publish(ROOM, late, "microphone")
        expect(status == 403, f"its own grants (can_publish=False): publish {status}")
        info = await room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=ADA))
        expect(not info.permission.can_publish, f"permission {info.permission}")

    async def delete():
        await room.delete_room(api.DeleteRoomRequest(room=ROOM))
        rooms = (await room.list_rooms(api.ListRoomsRequest(names=[ROOM]))).rooms
        expect(len(rooms) == 0, f"rooms {[r.name for r in rooms]}")

    await check("remove_participant(revoke_token_ts=now + 30 s) succeeds", remove)
    await check(
        "the original and refreshed tokens now answer 401 on /rtc/validate, /whoami, publish",
        refused,
    )
    await check("get_participant is not_found (404) and list_participants no longer lists it", gone)
    await check("a token issued 1 s before revoke_token_ts is refused (401)", before_cutoff)
    await check("a token issued at revoke_token_ts joins again, with its own grants", at_cutoff)
    await check("delete_room removes the room", delete)


async def cross_flow(lk, demo):
    """Both SDKs, one state: what one client changes the other sees."""
    room = lk.room
    state = {}

    async def node_join():
        joined = await node("join", CROSS_ROOM, SAM)
        expect(joined["status"] == 200, f"Node's join token: GET /rtc/validate {joined['status']}")
        state["token"] = joined["token"]

    async def node_update():
        options = {
            "metadata": "set by node",
            "attributes": {"by": "node"},
            "permission": {
                "canSubscribe": True,
                "canPublish": True,
                "canPublishSources": ["SCREEN_SHARE"],
            },
        }
        info = await node("update", CROSS_ROOM, SAM, json.dumps(options))
        expect(info.get("metadata") == "set by node", f"Node's ParticipantInfo {info}")

    async def python_sees():
        info = await room.get_participant(api.RoomParticipantIdentity(room=CROSS_ROOM, identity=SAM))
        expect(info.metadata == "set by node" and dict(info.attributes) == {"by": "node"}, f"{info}")
        p = info.permission
        expect(p.can_publish and list(p.can_publish_sources) == [api.TrackSource.SCREEN_SHARE], f"{p}")
        ps = (await room.list_participants(api.ListParticipantsRequest(room=CROSS_ROOM))).participants
        expect([q.identity for q in ps] == [SAM], f"participants {[q.identity for q in ps]}")

    async def python_update():
        info = await room.update_participant(
            api.UpdateParticipantRequest(
                room=CROSS_ROOM, identity=SAM, name="Sam", attributes={"by": "python", "seen": "yes"}
            )
        )
        expect(info.name == "Sam", f"name {info.name!r}")

    async def node_sees():
        info = await node("get", CROSS_ROOM, SAM)
        expect(info.get("name") == "Sam" and info.get("metadata") == "set by node", f"{info}")
        expect(info.get("attributes") == {"by": "python", "seen": "yes"}, f"attributes {info}")
        sources = info.get("permission", {}).get("canPublishSources")
        expect(sources == ["SCREEN_SHARE"], f"the permission Node set: {sources}")
        probe = await node("probe", CROSS_ROOM, state["token"], "screen_share")
        expect(probe == {"validate": 200, "whoami": 200, "publish": 204}, f"Node's token: {probe}")

    async def python_remove():
        await room.remove_participant(api.RoomParticipantIdentity(room=CROSS_ROOM, identity=SAM))

    async def node_refused():
        probe = await node("probe", CROSS_ROOM, state["token"], "screen_share")
        expect(probe == {"validate": 401, "whoami": 401, "publish": 401}, f"Node's token: {probe}")
        missing = await node("get", CROSS_ROOM, SAM)
        expect(missing == {"error": {"status": 404, "code": "not_found"}}, f"getParticipant {missing}")

    await check(
        "Node: a participant joins with its Node-minted token (canPublish:false)",
        node_join,
    )
    await check(
        "Node: updateParticipant(metadata, attributes, permission [SCREEN_SHARE])",
        node_update,
    )
    await check("Python get_participant and list_participants see Node's update", python_sees)
    await check("Python: update_participant(name, attributes)", python_update)
    await check(
        "Node getParticipant sees Python's update merged with its own; its token publishes screen_share (204)",
        node_sees,
    )
    await check("Python: remove_participant (default cutoff)", python_remove)
    await check(
        "Node: its token now answers 401 on every route, getParticipant is not_found (404)",
        node_refused,
    )

    async def cleanup():
        await room.delete_room(api.DeleteRoomRequest(room=CROSS_ROOM))

    await check("delete_room(cross room) succeeds", cleanup)


async def main():
    if not (URL and KEY and SECRET):
        print("set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET", file=sys.stderr)
        return 2
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with api.LiveKitAPI(URL, KEY, SECRET, timeout=TIMEOUT, failover=False) as lk:
            demo = Demo(session)
            await python_flow(lk, demo)
            await cross_flow(lk, demo)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
