from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

from i18n import catalogs
from switchboard.cli import main


def test_prompts_check_passes_on_shipped_catalogs(capsys):
    assert main(["prompts", "check"]) == 0
    assert "complete: 20 languages" in capsys.readouterr().out


def test_prompts_check_fails_on_a_missing_key(tmp_path: Path, capsys):
    locales = tmp_path / "locales"
    shutil.copytree(catalogs.LOCALES_DIR / "nl", locales / "nl")
    po = catalogs.po_path("nl", locales)
    catalog = catalogs.read_catalog(po, "nl")
    catalog.delete("Connecting you to an agent now.")
    catalogs.write_catalog(catalog, po)
    catalogs.compile_catalogs(["nl"], locales)
    assert main(["prompts", "check", "--catalogs", str(locales), "--languages", "nl", "en"]) == 1
    out = capsys.readouterr().out
    assert "nl: connecting: missing" in out
    assert "en: *: no catalog" in out


def test_prompts_build_renders_and_caches(tmp_path: Path, capsys):
    out = tmp_path / "prompts"
    assert main(["prompts", "build", "--out", str(out), "--languages", "ja"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    welcome = out / manifest["ja"]["welcome"][""]
    menu = out / manifest["ja"]["choose_language"]["3"]
    for path in (welcome, menu):
        with wave.open(str(path), "rb") as handle:
            assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (
                8000,
                1,
                2,
            )
    stamp = welcome.stat().st_mtime_ns
    assert main(["prompts", "build", "--out", str(out), "--languages", "ja"]) == 0
    assert welcome.stat().st_mtime_ns == stamp
    assert "queue_position" not in manifest["ja"]  # rendered on demand, per values


def test_prompts_build_rejects_unknown_language(tmp_path: Path, capsys):
    assert main(["prompts", "build", "--out", str(tmp_path), "--languages", "qq"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--languages" in err


def test_install_model_and_list(tmp_path: Path, model_files: dict, capsys):
    packages = tmp_path / "packages"
    path = model_files[("en", "es")]
    assert main(["i18n", "install-model", str(path), "--packages-dir", str(packages)]) == 0
    assert "installed en→es" in capsys.readouterr().out
    assert main(["i18n", "models", "--packages-dir", str(packages), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(m["source"], m["target"]) for m in listing["models"]] == [("en", "es")]
    # Both engines' pairs; en→es served by the Argos model, es→en by Apertium.
    assert {"source": "es", "target": "en", "mode": "spa-eng", "package": "apertium-eng-spa"} in (
        listing["apertium"]
    )
    served = {(p["source"], p["target"]): p["engine"] for p in listing["pairs"]}
    assert served[("en", "es")] == "argos" and served[("es", "en")] == "apertium"
    assert main(["i18n", "models", "--packages-dir", str(packages)]) == 0
    text = capsys.readouterr().out
    assert "en→es  version 0.1  splitter minisbd" in text
    assert "es→en  mode spa-eng  (apertium-eng-spa)" in text and "es→en  apertium" in text
    args = ["i18n", "translate", "--from", "en", "--to", "es", "hello my bag"]
    assert main([*args, "--packages-dir", str(packages)]) == 0
    assert capsys.readouterr().out == "hola mi maleta\n"
    args = ["i18n", "translate", "--from", "es", "--to", "en", "Necesito ayuda con mi cuenta."]
    assert main([*args, "--packages-dir", str(packages)]) == 0
    assert capsys.readouterr().out == "I need help with my account.\n"
    args = ["i18n", "translate", "--from", "en", "--to", "de", "hello"]
    assert main([*args, "--packages-dir", str(packages)]) == 1


def test_install_model_bad_file_is_exit_2(tmp_path: Path, capsys):
    bogus = tmp_path / "bogus.argosmodel"
    bogus.write_bytes(b"not a zip")
    assert main(["i18n", "install-model", str(bogus), "--packages-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("switchboard: error: ") and "bogus.argosmodel" in err
    assert err.count("\n") == 1


def test_config_turns_an_engine_off(tmp_path: Path, capsys):
    config = tmp_path / "locales.toml"
    config.write_text('[translation]\nengines = ["argos"]\n', encoding="utf-8")
    packages = ["--packages-dir", str(tmp_path / "none"), "--config", str(config)]
    assert main(["i18n", "models", *packages]) == 0
    out = capsys.readouterr().out
    assert "apertium pairs" not in out and "none: install an Argos model" in out
    args = ["i18n", "translate", "--from", "es", "--to", "en", "Hola", *packages]
    assert main(args) == 1
    assert "no engine translates es→en" in capsys.readouterr().err
