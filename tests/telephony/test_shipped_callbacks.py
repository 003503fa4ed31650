"""The shipped configuration calls a customer back more than once in every queue whose
callers are offered "press 1 to be called back" (IVR probe 3, finding 5: only `booking`
had retries; a baggage customer whose phone was not at hand got one ring and a failed
contact)."""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import load_settings
from telephony.config import read_flows
from telephony.model import Hours

REPO = Path(__file__).resolve().parents[2]


def test_every_queue_a_caller_can_wait_in_for_a_callback_calls_again() -> None:
    settings = load_settings(REPO / "config" / "default.toml")
    queues = {queue.name: queue for queue in settings.queues}
    flows = read_flows(settings.reader, queues=queues, regions={"default": Hours()})
    settings.reader.faults.raise_if_any()
    offered = {
        name
        for flow in flows
        if flow.callback
        for name in (flow.default_queue, *(reason.queue for reason in flow.reasons))
    }
    assert offered >= {"booking", "baggage", "emergency", "general"}
    # A voice caller moved to any other queue (a transfer) hears the offer there too.
    for name in offered | set(queues):
        assert queues[name].callback_attempts >= 3, name
        assert 60 <= queues[name].callback_retry_s <= 600, name
