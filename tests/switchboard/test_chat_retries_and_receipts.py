"""A message sent again after its answer was lost is kept and sent once (its
`client_message_id`), and read receipts are kept, so that a page loading the chat again
shows what the other side has read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node

ANA = Agent("ana", "default", {"booking": 4}, ["en"])


@contextlib.asynccontextmanager
async def taken_chat(
    redis_url: str,
) -> AsyncIterator[tuple[Node, aiohttp.ClientSession, str, dict[str, str], dict[str, str], Any]]:
    """A customer's chat that ana took; yields the node, a client, the contact id, the
    customer's and ana's headers, and ana's desk socket."""
    users = [("ana", Role.AGENT, "ana-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        chat = await new_chat(http)
        accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
        assert accepted.status == 200, await accepted.text()
        customer = {"X-Customer-Token": chat["customer_token"]}
        yield node, http, chat["contact_id"], customer, ana, desk
        await desk.close()


async def write(
    http: aiohttp.ClientSession,
    cid: str,
    headers: dict[str, str],
    text: str,
    client_id: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """A message posted by whom `headers` name: the answer's status and body."""
    body: dict[str, Any] = {"text": text}
    if client_id is not None:
        body["client_message_id"] = client_id
    sent = await http.post(f"/api/v1/contacts/{cid}/messages", json=body, headers=headers)
    return sent.status, await sent.json()


async def heard(desk: Any, for_s: float = 1.0) -> list[dict[str, Any]]:
    """The message events the desk socket got within `for_s`."""
    found = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(for_s):
            while True:
                event = await desk.receive_json()
                if event["type"] == "message":
                    found.append(event)
    return found


async def test_a_retried_message_is_kept_and_sent_once(redis_url: str) -> None:
    async with taken_chat(redis_url) as (node, http, cid, customer, ana, desk):
        status, first = await write(http, cid, customer, "My reference is XYZ789", "m-1")
        assert status == 201 and first["client_message_id"] == "m-1"
        await heard(desk)
        # The answer was lost; the page sends the same message again, with the same id.
        status, again = await write(http, cid, customer, "My reference is XYZ789", "m-1")
        assert (status, again) == (200, first)
        assert await heard(desk) == []  # nothing sent to the agent again
        # Two at once (a double click), a new id: one message.
        both = await asyncio.gather(
            *(write(http, cid, customer, "Are you there?", "m-2") for _ in range(2))
        )
        assert sorted(code for code, _ in both) == [200, 201]
        assert both[0][1]["message_id"] == both[1][1]["message_id"]
        assert len(await heard(desk)) == 1
        # The same id from the other side is another message; no id is never a repeat.
        status, reply = await write(http, cid, ana, "Thank you, one moment", "m-1")
        assert status == 201 and reply["message_id"] != first["message_id"]
        for _ in range(2):
            assert (await write(http, cid, customer, "ok"))[0] == 201
        # An id is 1-64 letters, digits, - and _.
        for wrong in ("", "a b", "é", "x" * 65, "a/b"):
            status, body = await write(http, cid, customer, "hello", wrong)
            assert (status, body["field"]) == (400, "$.client_message_id")
        # A repeat is answered once the chat has ended; a new message is refused.
        assert (await http.post(f"/api/v1/contacts/{cid}/complete", headers=ana)).status == 200
        assert await write(http, cid, customer, "My reference is XYZ789", "m-1") == (200, first)
        assert (await write(http, cid, customer, "One more thing", "m-3"))[0] == 409
        stored = await node.contacts.chat.messages(cid)
    assert [(m.sender, m.text) for m in stored] == [
        ("customer", "My reference is XYZ789"),
        ("customer", "Are you there?"),
        ("ana", "Thank you, one moment"),
        ("customer", "ok"),
        ("customer", "ok"),
    ]


async def listed(http: aiohttp.ClientSession, cid: str, headers: dict[str, str]) -> Any:
    answer = await http.get(f"/api/v1/contacts/{cid}/messages", headers=headers)
    assert answer.status == 200, await answer.text()
    return await answer.json()


async def test_read_receipts_are_kept_for_a_page_that_loads_the_chat_again(
    redis_url: str,
) -> None:
    async with taken_chat(redis_url) as (node, http, cid, token, ana, desk):
        c1 = (await write(http, cid, token, "Hello"))[1]["message_id"]
        a1 = (await write(http, cid, ana, "Hi, how can I help?"))[1]["message_id"]
        a2 = (await write(http, cid, ana, "Are you there?"))[1]["message_id"]
        c2 = (await write(http, cid, token, "Yes"))[1]["message_id"]
        assert (await listed(http, cid, token))["read"] == {"customer": None, "agent": None}

        window = await http.ws_connect(f"/api/v1/contacts/{cid}/events", headers=token)
        await window.send_json({"type": "read", "message_id": a2})
        await desk.send_json({"type": "read", "contact_id": cid, "message_id": c1})

        async def reads() -> dict[str, str | None]:
            for _ in range(50):  # bounded: 5 s
                read = dict((await listed(http, cid, ana))["read"])
                if read["customer"] and read["agent"]:
                    return read
                await asyncio.sleep(0.1)
            return read

        assert await reads() == {"customer": a2, "agent": c1}
        # Nothing goes back to an earlier message, nor to one of the reader's own; the
        # agent reads on.
        await window.send_json({"type": "read", "message_id": a1})
        await window.send_json({"type": "read", "message_id": c2})
        await desk.send_json({"type": "read", "contact_id": cid, "message_id": a2})
        await desk.send_json({"type": "read", "contact_id": cid, "message_id": c2})
        for _ in range(50):
            if (await listed(http, cid, token))["read"]["agent"] == c2:
                break
            await asyncio.sleep(0.1)
        assert (await listed(http, cid, token))["read"] == {"customer": a2, "agent": c2}
        assert [m["message_id"] for m in (await listed(http, cid, token))["messages"]] == [
            c1,
            a1,
            a2,
            c2,
        ]
        await window.close()
        # Retention takes the receipts with the transcript.
        await node.router.store.delete_transcripts([cid])
        assert await node.router.store.reads(cid) == {"customer": None, "agent": None}
