"""The language subtag of a tag: the one rule by which agents, contacts, queues and
messages are matched on language (`es-MX`, `ES` and `es_ES` are all `es`)."""

from __future__ import annotations


def primary(tag: str) -> str:
    """The language subtag alone, lower case: `pt-BR` → `pt`, `zh_Hant_TW` → `zh`."""
    return tag.replace("-", "_").split("_", 1)[0].lower()
