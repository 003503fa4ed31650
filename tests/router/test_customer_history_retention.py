"""A customer's history (`customer:<id>`, the desk's 360° view) follows retention.

- Retention takes the contacts it scrubs out of their customer's history; a history left
  empty goes, so no caller's number or customer id outlives its contacts in a key name.
- A returning customer keeps the contacts retention has not reached: the desk still
  lists them.
- An anonymous customer (`anon-…`) is their one contact's alone and gets no history; one
  an earlier version wrote goes with its contact's retention.

The routing function appends records at the server's time, so the test takes the cut-off
from the old records' ids and drives retention's clock (`at_ms`) from there.
"""

from __future__ import annotations

import asyncio

from router.identity import anonymous
from router.model import Channel, NewContact
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from switchboard.common.clock import DAY_MS

RETENTION_DAYS = 30


async def ended_contact(router: Router, customer_id: str, channel: Channel = Channel.CHAT) -> str:
    """A contact of the customer that waited and was abandoned: its record is written."""
    contact = await router.create_contact(NewContact(channel, "general", "en", customer_id))
    await router.abandon(contact.contact_id)
    return contact.contact_id


async def history(router: Router, customer_id: str) -> list[str]:
    store = router.store
    return list(await store.client.zrange(store.keys.customer(customer_id), 0, -1))


async def server_ms(router: Router) -> int:
    seconds, micros = await router.store.client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def after_the_records(router: Router) -> int:
    """A cut-off after every record so far, once the server's clock has passed it: a
    record appended from now on is at or after it (bounded wait, a few ms)."""
    store = router.store
    last = await store.client.xrevrange(store.keys.records, count=1)
    cutoff = int(str(last[0][0]).split("-")[0]) + 1
    for _ in range(1000):
        if await server_ms(router) >= cutoff:
            return cutoff
        await asyncio.sleep(0.001)
    raise AssertionError(f"the server's clock did not reach {cutoff}")


async def test_retention_empties_customer_histories_and_keeps_a_returning_customers_recent_ones(
    router: Router,
) -> None:
    store = router.store
    returning, gone = "cust-returning", "+15557000042"
    old = await ended_contact(router, returning)
    older_call = await ended_contact(router, gone, Channel.VOICE)
    anonymous_chat_customer = anonymous().customer_id
    anonymous_chat = await ended_contact(router, anonymous_chat_customer)
    # An anonymous chat's history as an earlier version of the routing function wrote it.
    legacy_customer = anonymous().customer_id
    legacy_chat = await ended_contact(router, legacy_customer)
    await store.client.zadd(store.keys.customer(legacy_customer), {legacy_chat: 1})
    assert await history(router, returning) == [old]
    assert await history(router, gone) == [older_call]
    assert not await store.client.exists(store.keys.customer(anonymous_chat_customer))

    cutoff = await after_the_records(router)
    recent = await ended_contact(router, returning, Channel.VOICE)
    chat = NewContact(Channel.CHAT, "general", "en", returning)  # a second later: newest
    waiting = (await router.create_contact(chat, at_ms=await server_ms(router) + 1000)).contact_id

    reports = Reports(RecordStore(store))
    at_ms = cutoff + RETENTION_DAYS * DAY_MS
    assert await reports.apply_retention(RETENTION_DAYS, at_ms=at_ms) == 4

    assert await history(router, returning) == [recent, waiting]
    # the desk's 360° view of the returning customer, newest first
    listed = await store.customer_contacts(returning)
    assert [c.contact_id for c in listed] == [waiting, recent]
    for customer in (gone, anonymous_chat_customer, legacy_customer):
        assert not await store.client.exists(store.keys.customer(customer)), customer
    names = [key async for key in store.client.scan_iter(match=store.keys.customer("*"))]
    assert names == [store.keys.customer(returning)]
    assert await router.store.get_contact(anonymous_chat) is None  # scrubbed with its history

    # A later run finds nothing more of that age; the returning customer's recent
    # contacts go once retention reaches them, the live one only after it ends.
    assert await reports.apply_retention(RETENTION_DAYS, at_ms=at_ms) == 0
    await router.abandon(waiting)
    later = await after_the_records(router)
    assert await reports.apply_retention(RETENTION_DAYS, at_ms=later + RETENTION_DAYS * DAY_MS) == 2
    assert not await store.client.exists(store.keys.customer(returning))


async def test_an_anonymous_chat_leaves_no_customer_key(router: Router) -> None:
    """No later contact can reach an anonymous customer: their chat is their history,
    so nothing is indexed under their id, live or ended (the desk shows the chat)."""
    store = router.store
    customer = anonymous().customer_id
    contact = await router.create_contact(NewContact(Channel.CHAT, "general", "en", customer))
    assert not await store.client.exists(store.keys.customer(customer))
    await router.abandon(contact.contact_id)
    assert not await store.client.exists(store.keys.customer(customer))
    assert (await router.get_contact(contact.contact_id)).customer_id == customer
