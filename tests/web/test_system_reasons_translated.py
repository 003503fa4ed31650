"""The not-ready reasons the system gives (router/agents.py `SYSTEM_REASONS`: "logged in"
after every sign-in, "no answer", "phone busy", "phone unreachable") are shown on the
desk in its language, as the shipped `[desk]` reasons are: each is marked for the
catalogs in the desk's scripts and translated in every desk language. "logged in" was in
none, so every translated desk read `غير جاهز (logged in)` after each sign-in."""

from __future__ import annotations

import pytest

from i18n.pages import DESK_LANGUAGES, page_strings
from router.agents import SYSTEM_REASONS
from router.desk import DEFAULT_REASONS
from switchboard.web.strings import page_messages

REASONS = (*DEFAULT_REASONS, *SYSTEM_REASONS)


def test_every_reason_is_marked_in_the_desks_scripts() -> None:
    used = page_messages()
    assert [reason for reason in REASONS if reason not in used] == []


@pytest.mark.parametrize("language", DESK_LANGUAGES)
def test_every_reason_reads_in_each_desk_language(language: str) -> None:
    strings = page_strings(language, page="desk").strings
    missing = [reason for reason in REASONS if not strings.get(reason)]
    assert missing == [], f"{language}: no translation of {missing}"
    if language != "en":
        assert strings["logged in"] != "logged in"
