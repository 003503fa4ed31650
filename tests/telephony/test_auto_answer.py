"""`[sip] agent_auto_answer`: with it on, the INVITE that offers a call to an agent's
phone asks the phone to answer it itself, in the two forms desk phones and softphones
honour (Call-Info `answer-after=0`, Alert-Info `info=alert-autoanswer`); off (the
default), it carries neither and the phone rings as before. Real SIP: a worker process,
sipp as the agent's phone (`sipp/agent_auto_answer.xml`), the Router."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from telephony.calls.offers import auto_answer_headers
from telephony.config import read_sip

from .conftest import add_agent, pick_reason
from .test_transfer import sipp_phone

CALL_INFO = "<sip:127.0.0.1>;answer-after=0"
ALERT_INFO = "<http://127.0.0.1>;info=alert-autoanswer"


def offer_headers(messages: Path) -> dict[str, list[str]]:
    """The headers of the INVITE sipp received (its `-trace_msg` log), by lowercase name."""
    found = re.search(r"^INVITE sip:.*?(?:\r?\n\r?\n|\Z)", messages.read_text(), re.M | re.S)
    assert found, f"no INVITE in {messages}"
    headers: dict[str, list[str]] = {}
    for line in found.group(0).splitlines()[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers


@pytest.mark.parametrize(
    ("sip", "expected"),
    [
        ("agent_auto_answer = true", {"call-info": [CALL_INFO], "alert-info": [ALERT_INFO]}),
        ("", {}),  # the default: the phone rings, the agent answers
    ],
    ids=["on", "off"],
)
async def test_the_offer_asks_the_agents_phone_to_answer_itself_only_when_set(
    sip: str,
    expected: dict[str, list[str]],
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
) -> None:
    voice = await node(sip=sip)
    uri, phone = await sipp_phone("agent_auto_answer.xml", tmp_path)
    try:
        await add_agent(router, "dave", uri, {"booking": 2})
        await pick_reason(voice, await parties())
        assert await asyncio.wait_for(phone.wait(), 45) == 0, tmp_path / "sipp-errors.log"
    finally:
        if phone.returncode is None:
            phone.kill()
            await phone.wait()
    headers = offer_headers(tmp_path / "sipp-messages.log")
    assert headers.get("x-switchboard-dial") == ["person"]  # it is the offer's INVITE
    answering = {name: headers[name] for name in ("call-info", "alert-info") if name in headers}
    assert answering == expected


def test_the_setting_is_off_unless_set_and_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "sip.toml"
    path.write_text("[sip]\n")
    assert not read_sip(ConfigReader.open(path)).agent_auto_answer
    path.write_text("[sip]\nagent_auto_answer = true\n")
    reader = ConfigReader.open(path)
    assert read_sip(reader).agent_auto_answer
    reader.check_unknown_keys()
    reader.faults.raise_if_any()
    path.write_text('[sip]\nagent_auto_answer = "yes"\n')
    reader = ConfigReader.open(path)
    read_sip(reader)
    with pytest.raises(ConfigError, match=r"agent_auto_answer.*true or false"):
        reader.faults.raise_if_any()


def test_the_call_info_names_the_nodes_sip_host() -> None:
    assert auto_answer_headers("sip.example.com")["Call-Info"] == (
        "<sip:sip.example.com>;answer-after=0"
    )
    assert auto_answer_headers("::1")["Call-Info"] == "<sip:[::1]>;answer-after=0"
