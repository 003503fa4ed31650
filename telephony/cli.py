"""`switchboard voice check|prompts`: validate the voice configuration, pre-render prompts.

switchboard voice check [--config FILE]    the file's faults (as `serve` checks it), capacity, flows
switchboard voice prompts [--config FILE]  render every fixed IVR prompt to the cache
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.cli import CommandRegistry, add_config_flag

if TYPE_CHECKING:
    from telephony.config import VoiceConfig


def _config_flag(parser: argparse.ArgumentParser) -> None:
    add_config_flag(parser)


def _checked_voice(path: Path) -> tuple[bool, VoiceConfig]:
    """Whether the file turns voice on (a `[sip]` section, as `switchboard serve` reads
    it), and its voice configuration, the file checked whole as `serve` checks it (every
    section, unknown keys too, every fault in one report: ConfigError)."""
    from switchboard.node import check_configuration
    from switchboard.settings import load_settings
    from telephony.service import read_voice_settings

    settings = load_settings(path, defer_faults=True)
    check_configuration(settings)
    return settings.reader.has("sip"), read_voice_settings(settings)


def check(args: argparse.Namespace) -> int:
    voice_on, config = _checked_voice(args.config)
    if not voice_on:
        print(f"{args.config}: no [sip] section: voice is off (serve takes chats only)")
        return 0
    sip, flows, surveys = config.sip, config.flows, config.surveys
    kamailio = sip.front_door == "kamailio" and shutil.which(sip.kamailio) is not None
    workers = sip.workers if kamailio else 1
    door = "Kamailio dispatcher" if kamailio else "none (one worker on the SIP port)"
    from telephony.capacity import UPSTREAM_MAX_CALLS, built_max_calls

    built = built_max_calls()
    build = (
        "the PyPI wheel (make pjsua2 builds the 256-call one)"
        if built <= UPSTREAM_MAX_CALLS
        else "scripts/build-pjsua2.sh"
    )
    transports = "+".join(sip.transports)
    print(f"{args.config}: SIP {transports}:{sip.host}:{sip.port}, front door: {door}")
    print(f"  pjsua2 build: {built} calls per process ({build})")
    print(
        f"  {workers} worker(s) x {sip.callers_per_worker} callers "
        f"({sip.calls_per_worker} calls each, one kept per caller for the agent leg)"
        f" = capacity {workers * sip.callers_per_worker} concurrent calls"
    )
    for flow in flows:
        reasons = ", ".join(
            f"{r.digit}={r.queue}{' (emergency)' if r.emergency else ''}" for r in flow.reasons
        )
        print(
            f"  number {flow.number}: languages {'/'.join(flow.languages)}; {reasons}; "
            f"default {flow.default_queue}; hours {flow.hours.open}-{flow.hours.close} "
            f"{flow.hours.timezone}"
        )
    if not flows:
        print("  no [[ivr]] flow: every call is refused with 404")
    for survey in surveys.values():
        languages = "/".join(survey.languages) or "every language"
        print(
            f"  post-call DTMF survey (1-5) after agent hang-up: queue {survey.queue}, {languages}"
        )
    recording = config.recording
    if recording.queues:
        print(
            f"  recorded: every call of {', '.join(recording.queues)}"
            f"{' (caller told first)' if recording.consent else ''}, into {recording.directory}"
            + (
                f", deleted after {recording.retention_days:g} days"
                if recording.retention_days
                else ", kept"
            )
        )
    return 0


def prompts(args: argparse.Namespace) -> int:
    from telephony.prompts import PromptRenderer, make_music, static_prompts

    _, config = _checked_voice(args.config)
    sip = config.sip
    cache = Path(sip.prompt_cache_dir)
    renderer = PromptRenderer(cache, sip.voice_rate)
    prompts = static_prompts(config.flows, config.surveys.values(), config.recording)
    paths = {renderer.path(prompt) for prompt in prompts}
    if not sip.music:
        paths.add(make_music(cache / "music.wav"))
    print(f"{len(paths)} prompt files ready in {cache}")
    return 0


def register(registry: CommandRegistry) -> None:
    parser = registry.subcommand(
        "voice", "check", "Validate [sip], [[ivr]], [[surveys]]; print the voice capacity."
    )
    _config_flag(parser)
    parser.set_defaults(handler=check)
    parser = registry.subcommand(
        "voice", "prompts", "Render every fixed IVR prompt (8 kHz WAV) into the cache."
    )
    _config_flag(parser)
    parser.set_defaults(handler=prompts)
