"""Administration over HTTP: a queue defined on one node serves chats on another at once;
agents and users are created, changed and removed with their sessions ended; all of it
admins only, and audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from router.model import Agent, Presence, Role
from switchboard.settings import RoutingConfig
from tests.nodes import ROOT, http_session, login, new_chat, running_node


async def test_admin_changes_reach_every_node_without_a_restart(redis_url: str) -> None:
    admins = [("adm", Role.ADMIN, "admin-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with (
        running_node(redis_url, node_id="n1", users=admins) as one,
        running_node(redis_url, node_id="n2") as two,
        http_session(one) as http_one,
        http_session(two) as http_two,
    ):
        adm = await login(http_one, "adm", "admin-secret-1")
        sup = await login(http_one, "sup", "sup-secret-1")
        queue = {"strategy": "most_skilled", "wrap_up_s": 0, "fallback_languages": ["en"]}
        refused = await http_one.put("/api/v1/admin/queues/refunds", json=queue, headers=sup)
        assert refused.status == 403
        bad = await http_one.put(
            "/api/v1/admin/queues/refunds", json={**queue, "ring_s": 0}, headers=adm
        )
        assert bad.status == 400 and (await bad.json())["field"] == "$.ring_s"
        made = await http_one.put("/api/v1/admin/queues/refunds", json=queue, headers=adm)
        assert made.status == 200 and (await made.json())["skill"] == "refunds"

        agent = {"region": "default", "skills": {"refunds": 4}, "languages": ["en", "de"]}
        created = await http_one.put("/api/v1/admin/agents/rita", json=agent, headers=adm)
        assert created.status == 200 and (await created.json())["skills"] == {"refunds": 4}
        user = {"role": "agent", "password": "rita-secret-1"}
        assert (
            await http_one.put("/api/v1/admin/users/rita", json=user, headers=adm)
        ).status == 200

        # The other node knows the new queue at once and routes its chat to rita.
        for _ in range(50):  # bounded: the change event crosses Redis
            if "refunds" in two.router.queues:
                break
            await asyncio.sleep(0.05)
        rita = await login(http_two, "rita", "rita-secret-1")
        await http_two.put("/api/v1/agents/rita/state", json={"state": "available"}, headers=rita)
        chat = await new_chat(http_two, queue="refunds", language="de", customer="r-1")
        assert chat["state"] == "offered" and chat["agent_id"] == "rita"

        # Rita holds a chat: she cannot be removed until it ends.
        busy = await http_one.delete("/api/v1/admin/agents/rita", headers=adm)
        assert busy.status == 409
        await two.router.fail(chat["contact_id"], "test over")
        socket = await http_two.ws_connect("/api/v1/agents/rita/events", headers=rita)
        assert (await http_one.delete("/api/v1/admin/agents/rita", headers=adm)).status == 200
        kinds: list[aiohttp.WSMsgType] = []
        while aiohttp.WSMsgType.CLOSE not in kinds and len(kinds) < 10:
            kinds.append((await asyncio.wait_for(socket.receive(), 5)).type)
        assert kinds[-1] == aiohttp.WSMsgType.CLOSE  # after the "removed" state events
        assert (await http_two.get("/api/v1/agents/rita", headers=adm)).status == 404
        assert (await http_one.delete("/api/v1/admin/queues/refunds", headers=adm)).status == 200
        for _ in range(50):
            if "refunds" not in two.router.queues:
                break
            await asyncio.sleep(0.05)
        assert "refunds" not in two.router.queues

    entries = [(e.actor, e.action) for e in await one.reports.audit_log()]
    assert entries == [
        ("adm", "admin.queue.put"),
        ("adm", "admin.agent.put"),
        ("adm", "admin.user.put"),
        ("adm", "admin.agent.remove"),
        ("adm", "admin.queue.remove"),
    ]


async def test_a_node_restarted_with_its_file_keeps_the_admins_queue(redis_url: str) -> None:
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        changed = {"ring_s": 42, "wrap_up_s": 3}
        answer = await http.put("/api/v1/admin/queues/booking", json=changed, headers=adm)
        assert answer.status == 200
    async with running_node(redis_url) as again:
        assert again.router.queues["booking"].ring_s == 42.0


async def test_an_admins_agent_and_queue_take_the_nodes_routing_defaults(redis_url: str) -> None:
    """Without `capacity` an agent takes `[routing].max_chats` chats; a queue without
    `ring_s` rings for `[routing].offer_timeout_s`."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    routing = RoutingConfig(offer_timeout_s=25.0, max_chats=5)
    async with (
        running_node(redis_url, users=admin, routing=routing) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        agent = {"region": "default", "skills": {"booking": 3}, "languages": ["en"]}
        made = await http.put("/api/v1/admin/agents/rita", json=agent, headers=adm)
        assert (await made.json())["capacity"] == {"voice": 1, "chat": 5}
        one_chat = {**agent, "capacity": {"chat": 1}}
        changed = await http.put("/api/v1/admin/agents/rita", json=one_chat, headers=adm)
        assert (await changed.json())["capacity"] == {"voice": 1, "chat": 1}
        assert (await changed.json())["ring_s"] == 0  # each queue's ring time

        too_long = await http.put(
            "/api/v1/admin/agents/rita", json={**agent, "ring_s": 301}, headers=adm
        )
        assert too_long.status == 400 and (await too_long.json())["field"] == "$.ring_s"
        slower = await http.put(
            "/api/v1/admin/agents/rita", json={**agent, "ring_s": 60}, headers=adm
        )
        assert (await slower.json())["ring_s"] == 60
        assert (await node.router.get_agent("rita")).ring_s == 60
        kept = await http.put("/api/v1/admin/agents/rita", json=agent, headers=adm)
        assert (await kept.json())["ring_s"] == 60  # left out: unchanged

        queue = {"wrap_up_s": 0}
        assert (await http.put("/api/v1/admin/queues/refunds", json=queue, headers=adm)).ok
        assert node.router.queues["refunds"].ring_s == 25.0
        timed = {**queue, "ring_s": 42}
        assert (await http.put("/api/v1/admin/queues/refunds", json=timed, headers=adm)).ok
        assert node.router.queues["refunds"].ring_s == 42.0


async def test_an_admin_sets_how_often_a_queue_calls_back(redis_url: str) -> None:
    """`callback_attempts` and `callback_retry_s` reach the routing rules; a queue that
    would call no time is refused naming the field, and the queue stays as it was."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        retries = {"callback_attempts": 3, "callback_retry_s": 120}
        assert (await http.put("/api/v1/admin/queues/refunds", json=retries, headers=adm)).ok
        refunds = node.router.queues["refunds"]
        assert (refunds.callback_attempts, refunds.callback_retry_s) == (3, 120.0)
        rules = await node.store.client.hgetall(node.store.keys.queue_config("refunds"))
        assert (rules["callback_attempts"], rules["callback_retry_s"]) == ("3", "120.0")
        never = await http.put(
            "/api/v1/admin/queues/refunds", json={"callback_attempts": 0}, headers=adm
        )
        assert never.status == 400 and (await never.json())["field"] == "$.callback_attempts"
        assert node.router.queues["refunds"].callback_attempts == 3


async def test_a_queue_an_admin_removed_stays_removed_when_a_node_restarts(
    redis_url: str, redis_client, tmp_path: Path
) -> None:
    """The node's file still lists the queue (its IVR no longer sends callers there); the
    admin's removal wins until an admin defines the queue again."""
    baggage_digit = '[[ivr.reasons]]\ndigit = "2"\nname = "baggage"\nqueue = "baggage"\n'
    default = (ROOT / "config" / "default.toml").read_text()
    assert baggage_digit in default
    config = tmp_path / "no-baggage-digit.toml"
    config.write_text(default.replace(baggage_digit, ""))
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with (
        running_node(redis_url, users=admin, config=config) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        assert "baggage" in node.router.queues
        assert (await http.delete("/api/v1/admin/queues/baggage", headers=adm)).status == 200
        assert await node.store.removed_queues() == {"baggage"}
    async with running_node(redis_url, config=config) as again:  # the file published again
        assert "baggage" not in again.router.queues
        assert "baggage" not in await again.store.queue_definitions()
        assert not await redis_client.exists("sb:{rt}:qcfg:baggage")
        assert not await redis_client.sismember("sb:{rt}:queues", "baggage")
        await again.router.publish_configuration(["default"])  # published once more
        assert "baggage" not in again.router.queues
    async with (
        running_node(redis_url, users=admin, config=config) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        queue = {"strategy": "most_skilled", "wrap_up_s": 0}
        assert (await http.put("/api/v1/admin/queues/baggage", json=queue, headers=adm)).ok
        assert await node.store.removed_queues() == set()
    async with running_node(redis_url, config=config) as again:
        assert again.router.queues["baggage"].wrap_up_s == 0.0  # the admin's, kept
        assert await redis_client.sismember("sb:{rt}:queues", "baggage")


async def test_a_queue_with_open_contacts_cannot_be_removed(redis_url: str) -> None:
    """A chat ringing in the queue (nobody waiting) keeps it: 409 naming how many, and the
    chat goes on in its queue (declined, it waits there, listed); once it ends the queue
    can go."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    rita = Agent("rita", "default", {"vip": 4}, ["en"])
    async with (
        running_node(redis_url, users=admin, agents=[rita]) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        queue = {"wrap_up_s": 0, "ring_s": 10}
        assert (await http.put("/api/v1/admin/queues/vip", json=queue, headers=adm)).ok
        await node.router.set_presence("rita", Presence.AVAILABLE)
        chat = await new_chat(http, queue="vip")
        assert (chat["state"], chat["agent_id"]) == ("offered", "rita")
        refused = await http.delete("/api/v1/admin/queues/vip", headers=adm)
        assert refused.status == 409
        assert "1 open contact " in (await refused.json())["message"]
        assert "vip" in node.router.queues
        await node.router.decline(chat["contact_id"], "rita")
        await node.router.set_presence("rita", Presence.NOT_READY)
        waiting = await node.router.get_contact(chat["contact_id"])
        assert (waiting.state.value, waiting.queue) == ("queued", "vip")
        refused = await http.delete("/api/v1/admin/queues/vip", headers=adm)
        assert refused.status == 409
        listed = await http.get("/api/v1/queues/vip/contacts", headers=adm)
        assert listed.status == 200
        assert [c["contact_id"] for c in (await listed.json())["contacts"]] == [chat["contact_id"]]
        await node.router.abandon(chat["contact_id"])
        assert (await http.delete("/api/v1/admin/queues/vip", headers=adm)).status == 200
        assert "vip" not in node.router.queues


async def test_a_queue_escalations_move_contacts_to_cannot_be_removed(redis_url: str) -> None:
    """senior is where emotion triggers and gold SLA breaches move contacts: removed, the
    move silently did not happen (a supervisor probe); refused as an overflow target is."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        refused = await http.delete("/api/v1/admin/queues/senior", headers=adm)
        message = (await refused.json())["message"]
        assert refused.status == 409, message
        assert "[emotion] move_to" in message and "sla_policies gold escalation move_to" in message
        assert "senior" in node.router.queues
        assert "senior" not in await node.store.removed_queues()


async def test_a_queue_the_ivr_sends_callers_to_cannot_be_removed(redis_url: str) -> None:
    """The file's IVR routes digit 2 to baggage and wrong digits to general: removed, a
    caller pressing 2 had a contact in no queue (refused, as an escalation's target is)."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        for queue, use in (("baggage", "reason baggage"), ("general", "default_queue")):
            refused = await http.delete(f"/api/v1/admin/queues/{queue}", headers=adm)
            message = (await refused.json())["message"]
            assert refused.status == 409, message
            assert f"[[ivr]] number * {use}" in message
            assert queue in node.router.queues


async def test_an_admin_reads_a_queues_definition_as_a_put_takes_it(redis_url: str) -> None:
    """A PUT replaces the whole definition; the GET gives it to change one field."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        url = "/api/v1/admin/queues/booking"
        definition = await (await http.get(url, headers=adm)).json()
        assert definition["min_proficiency"] == node.router.queues["booking"].min_proficiency
        assert definition["overflow_queue"] == node.router.queues["booking"].overflow_queue
        changed = await http.put(url, json={**definition, "ring_s": 30}, headers=adm)
        assert changed.status == 200, await changed.text()
        again = await (await http.get(url, headers=adm)).json()
        assert again == {**definition, "ring_s": 30}
        assert (await http.get("/api/v1/admin/queues/nowhere", headers=adm)).status == 404


async def test_a_name_that_breaks_the_apis_id_rules_is_refused_naming_the_path(
    redis_url: str,
) -> None:
    """A queue is named as every body names queues (letters, digits, `_.-`, at most 64),
    an agent and a user as a login names them (no spaces or controls, at most 128): a
    queue nobody could chat in, or a user who could never log in, is not created."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        queues = set(node.router.queues)
        for name in ("has%20space", "colon:stat", "x" * 3000, "%C3%BCn%C3%AF", "new%0Aline"):
            answer = await http.put(
                f"/api/v1/admin/queues/{name}", json={"skill": "booking"}, headers=adm
            )
            assert answer.status == 400, (name, answer.status)
            assert (await answer.json())["field"] == "path.queue"
        assert set(node.router.queues) == queues
        assert set(await node.store.queue_definitions()) <= queues
        agent = {"region": "default", "skills": {"booking": 3}, "languages": ["en"]}
        user = {"role": "agent", "password": "password-1"}
        for name in ("has%20space", "y" * 3000):
            answer = await http.put(f"/api/v1/admin/agents/{name}", json=agent, headers=adm)
            assert answer.status == 400 and (await answer.json())["field"] == "path.agent"
            answer = await http.put(f"/api/v1/admin/users/{name}", json=user, headers=adm)
            assert answer.status == 400 and (await answer.json())["field"] == "path.user"
        assert await node.store.get_agent("has space") is None
        assert await node.sessions.users.get("has space") is None
        assert await node.sessions.users.get("y" * 3000) is None
        assert await node.reports.audit_log() == []  # nothing was put


async def test_the_audit_log_pages_back_to_its_first_entry(redis_url: str) -> None:
    """An auditor walks the whole log a page at a time (it was capped at the latest
    10,000 with no way further back): each page the next older, nothing twice, nothing
    skipped; a malformed `before` is a 400 naming it."""
    admins = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admins) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        for n in range(7):
            await node.reports.audit("adm", "test.step", n=n)
        seen: list[int] = []
        pages = 0
        query: dict[str, str] = {"last": "3"}
        while True:
            answer = await http.get("/api/v1/audit", params=query, headers=adm)
            assert answer.status == 200, await answer.text()
            page = await answer.json()
            pages += 1
            steps = [e["detail"]["n"] for e in page["entries"] if e["action"] == "test.step"]
            seen = steps + seen  # each page is older than the one before, newest last
            if not page["truncated"]:
                assert page["next"] is None
                break
            assert pages < 10, "the pages never ended"
            query = {"last": "3", "before": page["next"]}
        assert seen == list(range(7))
        first = await http.get("/api/v1/audit", params={"before": "0-0"}, headers=adm)
        assert first.status == 200 and await first.json() == {
            "entries": [],
            "truncated": False,
            "next": None,
        }
        bad = await http.get("/api/v1/audit", params={"before": "latest"}, headers=adm)
        assert bad.status == 400 and (await bad.json())["field"] == "query.before"


async def test_queue_reads_hold_while_an_admin_adds_and_removes_queues(redis_url: str) -> None:
    """The wallboard went through the node's live queues while waiting on Redis; a queue
    added or removed meanwhile answered 500 (`dictionary changed size during iteration`)
    to two reads in three (an API probe). Every read now sees the queues as it began."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        statuses: list[int] = []

        async def read() -> None:
            for path in ("/api/v1/queues", "/api/v1/queues/booking", "/api/v1/wallboard") * 15:
                async with http.get(path, headers=adm) as answer:
                    statuses.append(answer.status)

        async def change() -> None:
            for round_ in range(15):
                name = f"pop{round_}"
                assert (await http.put(f"/api/v1/admin/queues/{name}", json={}, headers=adm)).ok
                assert (await http.delete(f"/api/v1/admin/queues/{name}", headers=adm)).ok

        await asyncio.gather(read(), change())
        assert statuses == [200] * 45
        assert not any(name.startswith("pop") for name in node.router.queues)
