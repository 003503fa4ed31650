"""Live calls over HTTP: the agent transfers, holds, records and pauses the recording,
supervisors listen in and play recordings back. Access and the call itself are
`router.calls.LiveCalls`'s."""

from __future__ import annotations

from aiohttp import web

from router.access import Act, Principal, roles_that_may
from router.calls import CallState, RecordingState, TransferTarget
from switchboard.http.api import API, Auth
from switchboard.http.base import CALLS
from switchboard.http.contacts import contact_view
from switchboard.http.schemas import Monitor, Transfer
from switchboard.http.views import moment, pause_json

_REFUSED = {401: "", 403: "", 404: "", 409: "not a live call held on this node, or refused"}


def _answer(request: web.Request, state: CallState) -> web.Response:
    body = contact_view(request, state.contact)
    if state.call:
        body["call_state"] = state.call
    return web.json_response(body)


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/transfer",
    "The agent holding the contact hands it to a queue, a named agent (then the queue "
    "after the ring time) or, for a call, an outside number; `warm` consults the target "
    "first while the caller hears music",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.TRANSFER),
    body=Transfer,
    responses={200: "the contact (and the call's state)", **_REFUSED},
)
async def transfer(request: web.Request, principal: Principal, body: Transfer) -> web.Response:
    target = TransferTarget(body.queue, body.agent, body.number, body.warm)
    state = await request.app[CALLS].transfer(principal, request.match_info["contact_id"], target)
    return _answer(request, state)


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/transfer/finish",
    "Warm transfer: the agent hands the caller to the party they consulted",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.TRANSFER),
    responses={200: "the contact and the call's state", **_REFUSED},
)
async def finish_transfer(request: web.Request, principal: Principal) -> web.Response:
    state = await request.app[CALLS].finish_transfer(principal, request.match_info["contact_id"])
    return _answer(request, state)


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/transfer/return",
    "Warm transfer: the agent takes the caller back; the consulted party is hung up",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.TRANSFER),
    responses={200: "the contact and the call's state", **_REFUSED},
)
async def return_transfer(request: web.Request, principal: Principal) -> web.Response:
    state = await request.app[CALLS].return_transfer(principal, request.match_info["contact_id"])
    return _answer(request, state)


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/recording",
    "The agent on the call records it from now on (after the consent prompt where "
    "configured); the file is listed on the contact",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.RECORD),
    responses={201: "the recording's file name", **_REFUSED},
)
async def record(request: web.Request, principal: Principal) -> web.Response:
    contact_id = request.match_info["contact_id"]
    name = await request.app[CALLS].record(principal, contact_id)
    return web.json_response({"contact_id": contact_id, "file": name}, status=201)


def _recording(state: RecordingState) -> web.Response:
    return web.json_response(
        {
            "contact_id": state.contact_id,
            "file": state.file,
            "paused": bool(state.paused_since_ms),
            "paused_since": moment(state.paused_since_ms),
            "paused_by": state.paused_by or None,
            "pauses": [pause_json(pause) for pause in state.pauses],
        }
    )


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/recording/pause",
    "The agent on the call pauses its recording while the caller gives card details "
    "(PCI DSS): the file takes silence until resumed (or `[recording] pause_max_s`); "
    "the pause is listed on the contact's recording and audited",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.RECORD),
    responses={
        200: "the recording, paused",
        **_REFUSED,
        409: "the call is not being recorded, its recording is already paused, or it is "
        "not a live call held on this node",
    },
)
async def pause_recording(request: web.Request, principal: Principal) -> web.Response:
    contact_id = request.match_info["contact_id"]
    return _recording(await request.app[CALLS].pause_recording(principal, contact_id))


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/recording/resume",
    "The agent resumes the call's paused recording (audited)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.RECORD),
    responses={
        200: "the recording, recording again, with its pauses so far",
        **_REFUSED,
        409: "the recording is not paused, the call is not being recorded, or it is not a "
        "live call held on this node",
    },
)
async def resume_recording(request: web.Request, principal: Principal) -> web.Response:
    contact_id = request.match_info["contact_id"]
    return _recording(await request.app[CALLS].resume_recording(principal, contact_id))


@API.route(
    "PUT",
    "/api/v1/contacts/{contact_id}/hold",
    "The agent on the call holds the caller from the desktop: the caller hears the "
    "center's music, the agent's phone stays up and no longer hears the caller; the "
    "contact shows `on_hold_since` and the hold goes on its record when it ends",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.HOLD),
    responses={200: "the contact and the call's state (held)", **_REFUSED},
)
async def hold(request: web.Request, principal: Principal) -> web.Response:
    state = await request.app[CALLS].hold(principal, request.match_info["contact_id"], True)
    return _answer(request, state)


@API.route(
    "DELETE",
    "/api/v1/contacts/{contact_id}/hold",
    "The agent takes the caller off hold: the two talk again",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.HOLD),
    responses={200: "the contact and the call's state (talking)", **_REFUSED},
)
async def resume(request: web.Request, principal: Principal) -> web.Response:
    state = await request.app[CALLS].hold(principal, request.match_info["contact_id"], False)
    return _answer(request, state)


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}/recording",
    "Play the call's recording back (supervisors of its queue, admins; audited), from the "
    "node that recorded it",
    auth=Auth.STAFF,
    content="audio/wav",
    responses={200: "the WAV file", 401: "", 403: "", 404: "no recording on this node"},
)
async def play_recording(request: web.Request, principal: Principal) -> web.StreamResponse:
    path = await request.app[CALLS].recording(principal, request.match_info["contact_id"])
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


@API.route(
    "PUT",
    "/api/v1/contacts/{contact_id}/monitor",
    "A supervisor of the call's queue listens in, whispers to the agent or barges in: "
    "their `phone` is rung and joined to the call; again with another mode changes it "
    "(start, change and end are audited)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.MONITOR),
    body=Monitor,
    responses={200: "the monitor", **_REFUSED},
)
async def monitor(request: web.Request, principal: Principal, body: Monitor) -> web.Response:
    contact_id = request.match_info["contact_id"]
    monitor_id = await request.app[CALLS].monitor(principal, contact_id, body.mode, body.phone)
    return web.json_response({"contact_id": contact_id, "monitor": monitor_id, "mode": body.mode})


@API.route(
    "DELETE",
    "/api/v1/contacts/{contact_id}/monitor",
    "The supervisor leaves the call (their phone is hung up)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.MONITOR),
    responses={200: "ended", **_REFUSED},
)
async def end_monitor(request: web.Request, principal: Principal) -> web.Response:
    contact_id = request.match_info["contact_id"]
    await request.app[CALLS].end_monitor(principal, contact_id)
    return web.json_response({"contact_id": contact_id, "ended": True})
