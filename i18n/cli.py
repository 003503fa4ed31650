"""`switchboard` subcommands of the i18n package: prompt catalogs and translation models.

switchboard prompts build [--out DIR] [--languages en es ...]
switchboard prompts check [--languages ...] [--config config/locales.toml | node.toml]
switchboard prompts extract | compile [--languages ...]
switchboard i18n install-model FILE.argosmodel [--packages-dir DIR]
switchboard i18n models [--packages-dir DIR] [--config FILE] [--json]
switchboard i18n translate --from es --to en TEXT [--packages-dir DIR] [--config FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from switchboard.cli import CommandRegistry
from switchboard.common.errors import InputError


def _languages(args: argparse.Namespace) -> list[str]:
    from i18n import catalogs
    from i18n.locale import DEFAULT_CONFIG

    if args.languages:
        return [code for item in args.languages for code in item.split(",") if code]
    config = Path(args.config) if getattr(args, "config", None) else DEFAULT_CONFIG
    if config.is_file():
        return _configured_languages(config, _catalogs_dir(args))
    return catalogs.catalog_languages()


def _configured_languages(config: Path, locales_dir: Path) -> list[str]:
    """A locales file's `enabled_languages`; for a node's file, those of its `[locales]`
    (else of config/locales.toml) and every language its `[[ivr]]` flows offer, which
    `enabled_languages` need not list: the prompts a caller hears in each."""
    from i18n.catalogs import catalog_languages
    from i18n.language import match_language
    from i18n.locale import DEFAULT_CONFIG, enabled_languages
    from switchboard.common.configfile import ConfigReader

    reader = ConfigReader.open(config)
    languages = list(enabled_languages(config if reader.has("locales") else DEFAULT_CONFIG))
    spoken = catalog_languages(locales_dir)
    for flow in reader.sections("ivr"):
        for tag in flow.strings("languages", ["en"]) or ["en"]:
            # Spelled as the IVR spells it (`DE` is `de`, telephony.config.read_flows).
            language = match_language(str(tag), spoken, loose=False) or str(tag)
            if language not in languages:
                languages.append(language)
    return languages


def _catalogs_dir(args: argparse.Namespace) -> Path:
    from i18n import catalogs

    return Path(args.catalogs) if getattr(args, "catalogs", None) else catalogs.LOCALES_DIR


def _check_known(languages: list[str]) -> None:
    from babel import Locale, UnknownLocaleError

    for code in languages:
        try:
            Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            raise InputError(
                f"--languages: expected language codes like es or pt, found {code!r}"
            ) from None


def prompts_build(args: argparse.Namespace) -> int:
    from i18n import catalogs
    from i18n.prompts import PromptCatalog, PromptRenderError, render_all

    languages = _languages(args)
    _check_known(languages)
    locales_dir = _catalogs_dir(args)
    missing = [code for code in languages if not catalogs.po_path(code, locales_dir).is_file()]
    if missing:
        raise InputError(f"--languages: no prompt catalog for {', '.join(missing)}")
    catalogs.compile_catalogs(languages, locales_dir)
    out = Path(args.out)
    try:
        catalog = PromptCatalog(locales_dir)
        catalog.reload()
        manifest = render_all(catalog, languages, out)
    except PromptRenderError as error:
        print(f"switchboard: error: {error}", file=sys.stderr)
        return 1
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    files = sum(len(variants) for entries in manifest.values() for variants in entries.values())
    print(f"{files} prompts in {len(languages)} languages rendered or cached in {out}")
    return 0


def prompts_check(args: argparse.Namespace) -> int:
    from i18n import catalogs

    languages = _languages(args)
    problems = catalogs.check_catalogs(languages, _catalogs_dir(args))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems in {len(languages)} languages", file=sys.stderr)
        return 1
    print(f"prompt catalogs complete: {len(languages)} languages")
    return 0


def prompts_extract(args: argparse.Namespace) -> int:
    from i18n import catalogs

    languages = (args.languages and _languages(args)) or catalogs.catalog_languages()
    for path in catalogs.update_catalogs(languages):
        print(path)
    return 0


def prompts_compile(args: argparse.Namespace) -> int:
    from i18n import catalogs

    languages = (args.languages and _languages(args)) or catalogs.catalog_languages()
    for path in catalogs.compile_catalogs(languages):
        print(path)
    return 0


def _translator(args: argparse.Namespace) -> Any:
    from i18n.translation import Translator
    from i18n.translation_settings import translation_settings

    settings = translation_settings(Path(args.config)) if args.config else None
    packages_dir = Path(args.packages_dir) if args.packages_dir else None
    return Translator(packages_dir, settings=settings)


def install_model(args: argparse.Namespace) -> int:
    from i18n.translation import install_model as install

    packages_dir = Path(args.packages_dir) if args.packages_dir else None
    model = install(Path(args.file), packages_dir)
    print(f"installed {model.source}→{model.target} (version {model.version}) in {model.path}")
    return 0


def models(args: argparse.Namespace) -> int:
    """Both engines' pairs, and which engine serves each pair the translator offers."""
    from i18n.apertium import ApertiumEngine, installed_modes
    from i18n.argos_engine import MINISBD, installed_models

    translator = _translator(args)
    settings = translator.settings
    argos_models = installed_models(translator.packages_dir) if translator.packages_dir else []
    apertium = translator.engines.get("apertium")
    apertium_dir = apertium.data_dir if isinstance(apertium, ApertiumEngine) else None
    modes = installed_modes(apertium_dir) if apertium_dir else []
    direct = translator.direct()
    served = [(pair, direct.get(pair)) for pair in translator.pairs()]
    # A pivoted pair's language in between: the first hop's target, as `route` picks it.
    routes = {pair: translator.route(*pair) for pair, engine in served if engine is None}
    pivots = {pair: hops[0][1] for pair, hops in routes.items() if hops}
    if args.json:
        listing = {
            "engines": list(settings.engines),
            "packages_dir": str(translator.packages_dir),
            "models": [
                {
                    "source": m.source,
                    "target": m.target,
                    "version": m.version,
                    "sentence_splitter": m.sentence_splitter,
                    "usable": m.sentence_splitter == MINISBD,
                    "path": str(m.path),
                }
                for m in argos_models
            ],
            "apertium_dir": str(apertium_dir) if apertium_dir else None,
            "apertium": [
                {"source": m.source, "target": m.target, "mode": m.name, "package": m.package}
                for m in modes
            ],
            "pairs": [
                {"source": s, "target": t, "engine": engine or "pivot"}
                | ({} if engine else {"through": pivots[(s, t)]})
                for (s, t), engine in served
            ],
            "pivot_pairs": [list(pair) for pair, engine in served if engine is None],
        }
        print(json.dumps(listing))
        return 0
    if "argos" in translator.engines:
        print(f"argos models in {translator.packages_dir}:")
    for m in argos_models:
        unusable = "" if m.sentence_splitter == MINISBD else "  (not used: no minisbd/)"
        splitter = f"splitter {m.sentence_splitter}{unusable}"
        print(f"  {m.source}→{m.target}  version {m.version}  {splitter}")
    if apertium_dir:
        print(f"apertium pairs in {apertium_dir}:")
        for mode in modes:
            variant = "  (variant: used when the plain mode is missing)" if mode.variant else ""
            print(f"  {mode.source}→{mode.target}  mode {mode.name}  ({mode.package}){variant}")
    print(f"pairs translated (engine order {', '.join(settings.engines)}):")
    if not served:
        print("  none: install an Argos model or an apertium-xxx-yyy package (docs/i18n.md)")
    for (source, target), engine in served:
        pinned = "  (pinned)" if engine and settings.pairs.get((source, target)) == engine else ""
        how = engine or f"through {pivots[(source, target)]}"
        print(f"  {source}→{target}  {how}{pinned}")
    return 0


def translate(args: argparse.Namespace) -> int:
    translator = _translator(args)
    try:
        result = translator.translate(args.text, args.source, args.target)
    finally:
        translator.close()
    if result.missing_pair:
        print(f"switchboard: no engine translates {result.source}→{result.target}", file=sys.stderr)
        return 1
    if result.error:
        print(f"switchboard: translation failed: {result.error}", file=sys.stderr)
        return 1
    print(result.text)
    return 0


def register(registry: CommandRegistry) -> None:
    """Add `prompts build|check|extract|compile` and `i18n install-model|models|translate`."""
    languages_help = "language codes (default: enabled_languages of the locales config)"

    build = registry.subcommand(
        "prompts", "build", "compile the catalogs and render every prompt to 8 kHz WAV"
    )
    build.add_argument("--out", default="var/prompts", help="cache directory (var/prompts)")
    build.add_argument("--languages", nargs="+", help=languages_help)
    build.add_argument("--config", help="locales file (config/locales.toml)")
    build.add_argument("--catalogs", help="catalogs directory (i18n/locales)")
    build.set_defaults(handler=prompts_build)

    check = registry.subcommand(
        "prompts", "check", "fail when an enabled or flow language lacks a prompt or is broken"
    )
    check.add_argument("--languages", nargs="+", help=languages_help)
    check.add_argument(
        "--config",
        help="locales file (config/locales.toml), or a node's file: its [[ivr]] languages too",
    )
    check.add_argument("--catalogs", help="catalogs directory (i18n/locales)")
    check.set_defaults(handler=prompts_check)

    extract = registry.subcommand(
        "prompts", "extract", "extract the template from messages.py and update each .po"
    )
    extract.add_argument("--languages", nargs="+", help="languages to update (default: all)")
    extract.set_defaults(handler=prompts_extract, config=None)

    compile_ = registry.subcommand("prompts", "compile", "compile each .po into its .mo")
    compile_.add_argument("--languages", nargs="+", help="languages to compile (default: all)")
    compile_.set_defaults(handler=prompts_compile, config=None)

    packages_help = (
        "Argos models directory (default $ARGOS_PACKAGES_DIR, else $SWITCHBOARD_ARGOS_DIR/packages,"
        " else var/argos/packages)"
    )
    config_help = "i18n configuration with a [translation] section (config/locales.toml)"
    install = registry.subcommand("i18n", "install-model", "install an Argos .argosmodel file")
    install.add_argument("file", metavar="FILE.argosmodel")
    install.add_argument("--packages-dir", help=packages_help)
    install.set_defaults(handler=install_model)

    listing = registry.subcommand(
        "i18n", "models", "list Argos models, Apertium pairs and the engine of each pair"
    )
    listing.add_argument("--packages-dir", help=packages_help)
    listing.add_argument("--config", help=config_help)
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=models)

    one = registry.subcommand("i18n", "translate", "translate one text (Argos or Apertium)")
    one.add_argument("--from", dest="source", required=True)
    one.add_argument("--to", dest="target", required=True)
    one.add_argument("text")
    one.add_argument("--packages-dir", help=packages_help)
    one.add_argument("--config", help=config_help)
    one.set_defaults(handler=translate)
