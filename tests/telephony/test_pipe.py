"""The node/worker protocol: requests round-trip through real JSON and a real Router."""

from __future__ import annotations

import asyncio
import json
import os

from router.model import Channel, NewContact
from router.service import Router
from telephony.pipe import PipeRouting, new_contact_from, serve_request, to_plain


async def test_a_worker_request_creates_a_contact_and_the_reply_decodes(router: Router) -> None:
    read_fd, write_fd = os.pipe()
    client = PipeRouting(write_fd)
    new = NewContact(channel=Channel.VOICE, queue="booking", language="fr", customer_id="+331")
    assert new_contact_from(json.loads(json.dumps(to_plain(new)))) == new

    pending = asyncio.ensure_future(client.create_contact(new))
    await asyncio.sleep(0)
    request = json.loads(os.read(read_fd, 65536).decode().splitlines()[0])
    assert request["op"] == "create_contact"
    reply = await serve_request(router, request)
    client.on_reply(json.loads(json.dumps(reply)))
    contact = await pending
    assert (contact.queue, contact.language, contact.channel) == ("booking", "fr", Channel.VOICE)
    assert (await router.get_contact(contact.contact_id)).customer_id == "+331"
    os.close(read_fd)
    os.close(write_fd)


async def test_refused_and_unknown_requests_come_back_as_errors(router: Router) -> None:
    unknown = await serve_request(router, {"rpc": 1, "op": "flushall", "args": {}})
    assert "unknown operation" in unknown["error"]
    refused = await serve_request(
        router, {"rpc": 2, "op": "accept", "args": {"contact_id": "nope", "agent_id": "x"}}
    )
    assert refused["reply"] == 2 and "error" in refused


async def test_the_position_of_a_caller_nobody_can_serve_crosses_the_pipe_without_a_wait(
    router: Router,
) -> None:
    read_fd, write_fd = os.pipe()
    client = PipeRouting(write_fd)
    new = NewContact(channel=Channel.VOICE, queue="booking", language="en", customer_id="+332")
    contact = await router.create_contact(new)  # no agent signed in: it waits
    pending = asyncio.ensure_future(client.position(contact.contact_id))
    await asyncio.sleep(0)
    request = json.loads(os.read(read_fd, 65536).decode().splitlines()[0])
    client.on_reply(json.loads(json.dumps(await serve_request(router, request))))
    where = await pending
    assert (where.position, where.ewt_s) == (1, None)
    os.close(read_fd)
    os.close(write_fd)
