"""Language tags as BCP 47 writes them: case-insensitive, language, script and region."""

from __future__ import annotations

import pytest

from switchboard.common.languages import canonical, primary, script_of, subtags


@pytest.mark.parametrize(
    ("tag", "parts", "written"),
    [
        ("EN", ("en", "", ""), "en"),
        ("En-Us", ("en", "", "US"), "en-US"),
        ("DE-de", ("de", "", "DE"), "de-DE"),
        ("ZH_hant_tw", ("zh", "Hant", "TW"), "zh-Hant-TW"),
        ("zh-tw", ("zh", "", "TW"), "zh-TW"),
        ("iw-il", ("he", "", "IL"), "he-IL"),  # the retired code is its current one
        ("es-419", ("es", "", "419"), "es-419"),
        ("ja-JP-u-ca-japanese", ("ja", "", "JP"), "ja-JP"),  # extensions left out
        ("pt_br", ("pt", "", "BR"), "pt-BR"),
    ],
)
def test_subtags_and_canonical_form(tag: str, parts: tuple[str, str, str], written: str) -> None:
    assert subtags(tag) == parts
    assert canonical(tag) == written
    assert primary(tag) == parts[0]


@pytest.mark.parametrize(
    ("tag", "script"),
    [
        ("zh-TW", "Hant"),
        ("zh-HK", "Hant"),
        ("zh-MO", "Hant"),
        ("ZH-HANT", "Hant"),
        ("zh", "Hans"),
        ("zh-CN", "Hans"),
        ("zh-SG", "Hans"),
        ("zh-Hans-HK", "Hans"),  # a script of its own wins over the region's
        ("sr", "Cyrl"),
        ("pt-BR", "Latn"),
        ("x-klingon", ""),
    ],
)
def test_script_of_a_tag(tag: str, script: str) -> None:
    assert script_of(tag) == script
