"""`switchboard agents import`, `users add`, `history export`: roster, users, history."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from pathlib import Path

from forecasting.cli import history_width
from forecasting.model import ALLOWED_WIDTHS
from router.model import Role
from router.reports import cli as report_cli
from router.reports.history import interval_rows
from router.reports.report import ReportOptions, contact_table
from router.reports.service import ReportInputs
from router.roster import roster_rows, unrouted_skills
from switchboard.cli import CommandRegistry, add_config_flag
from switchboard.common.errors import InputError
from switchboard.common.ids import STAFF_ID_PATTERN, STAFF_ID_WORDS
from switchboard.common.textfiles import read_text, writing_csv
from switchboard.services import services_for_command
from switchboard.settings import Settings, load_settings


def register(registry: CommandRegistry) -> None:
    agents = registry.subcommand("agents", "import", "Load the agents CSV (the planners' roster).")
    agents.add_argument("file", type=Path)
    add_config_flag(agents)
    agents.set_defaults(handler=import_agents)

    users = registry.subcommand("users", "add", "Create or update a user with a role and password.")
    users.add_argument("--id", required=True)
    users.add_argument("--role", required=True, choices=[role.value for role in Role])
    users.add_argument("--password-stdin", action="store_true", required=True)
    users.add_argument(
        "--queues", default="", help="supervisors: comma list of the queues they oversee (all)"
    )
    users.add_argument(
        "--regions", default="", help="supervisors: comma list of the regions they oversee (all)"
    )
    add_config_flag(users)
    users.set_defaults(handler=add_user)

    reset = registry.subcommand(
        "users", "sip-reset", "Give a user a new SIP password, revoking their softphone's."
    )
    reset.add_argument("--id", required=True)
    add_config_flag(reset)
    reset.set_defaults(handler=reset_sip_account)

    history = registry.subcommand(
        "history", "export", "Write finished contacts as the history CSV for forecasting."
    )
    history.add_argument("--out", type=Path, required=True)
    history.add_argument(
        "--interval",
        default="30m",
        help=f"interval width, one forecasting reads: {', '.join(f'{w}m' for w in ALLOWED_WIDTHS)}",
    )
    history.add_argument(
        "--contacts",
        action="store_true",
        help="one line per contact (with its wrap-up code and, masked, note) instead of intervals",
    )
    add_config_flag(history)
    history.set_defaults(handler=export_history)

    report_cli.register(registry)


def import_agents(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    rows = roster_rows(  # every row checked before anything is loaded
        read_text(args.file),
        str(args.file),
        [r.name for r in settings.regions],
        settings.routing.max_chats,
    )
    agents = [agent for _, agent in rows]

    async def load() -> set[str]:
        async with services_for_command(settings) as services:
            await services.router.reload_queues()  # an admin's queues count too
            await services.router.import_agents(agents, [r.name for r in settings.regions])
            await services.reports.audit(
                _os_user(), "admin.agents.import", file=str(args.file), agents=len(agents)
            )
            return {queue.skill for queue in services.router.queues.values()}

    skills = asyncio.run(load()) | _routed_skills(settings)
    for warning in unrouted_skills(rows, skills):
        print(f"switchboard: warning: {warning}", file=sys.stderr)
    print(f"imported {len(agents)} agents from {args.file}")
    return 0


def _routed_skills(settings: Settings) -> set[str]:
    """The skills the file's queues and IVR reasons route contacts by."""
    from telephony.config import read_flows
    from telephony.model import Hours

    regions = {region.name: Hours() for region in settings.regions}
    flows = read_flows(settings.reader, queues=[q.name for q in settings.queues], regions=regions)
    reasons = {reason.skill for flow in flows for reason in flow.reasons if reason.skill}
    return {queue.skill for queue in settings.queues} | reasons


def add_user(args: argparse.Namespace) -> int:
    if not re.match(STAFF_ID_PATTERN, args.id):  # as the admin API's path.user
        raise InputError(f"--id: expected {STAFF_ID_WORDS} (at most 128), found {args.id!r}")
    settings = load_settings(args.config)
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise InputError("standard input: password: expected at least 8 characters")
    queues = _names(args.queues, [q.name for q in settings.queues], "--queues")
    regions = _names(args.regions, [r.name for r in settings.regions], "--regions")

    async def save() -> bool:
        async with services_for_command(settings) as services:
            existed = await services.sessions.save_user(
                args.id, Role(args.role), password, queues=queues, regions=regions
            )
            await services.reports.audit(
                _os_user(), "admin.user.put", user_id=args.id, role=args.role, via="command line"
            )
            return existed

    existed = asyncio.run(save())
    ended = "; its sessions were ended" if existed else ""
    print(f"user {args.id} ({args.role}) saved{ended}")
    return 0


def reset_sip_account(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def reset() -> bool:
        async with services_for_command(settings) as services:
            done = await services.sessions.reset_sip_account(args.id)
            if done:
                await services.reports.audit(_os_user(), "admin.user.sip_reset", user_id=args.id)
            return done

    if not asyncio.run(reset()):
        raise InputError(f"--id: no user {args.id!r}")
    print(f"user {args.id}: new SIP password; their softphone must take it from the desktop")
    return 0


def export_history(args: argparse.Namespace) -> int:
    settings: Settings = load_settings(args.config)
    interval_s = history_width(args.interval) * 60  # what `forecast` reads back
    cases: dict[str, str] = {}

    async def read() -> ReportInputs:
        async with services_for_command(settings) as services:
            inputs = await services.reports.inputs(0)
            if args.contacts:  # case_id filled as `report --contacts` fills it
                cases.update(
                    await report_cli.contact_cases(services.reports, settings, inputs.records)
                )
            return inputs

    inputs = asyncio.run(read())
    if args.contacts:
        options = ReportOptions(start_ms=0, end_ms=2**62)
        lines = contact_table(
            inputs.records, options, ratings=inputs.ratings, wrap_ups=inputs.wrap_ups, cases=cases
        )
        with writing_csv(args.out) as writer:
            writer.writerows(lines)
        print(f"wrote {len(lines) - 1} contacts to {args.out}")
        return 0
    rows = interval_rows(inputs.records, interval_s)
    table: list[list[object]] = [["interval_start", "queue", "contacts", "aht_s"]]
    table += [[start, queue, n, "" if aht is None else aht] for start, queue, n, aht in rows]
    with writing_csv(args.out) as writer:
        writer.writerows(table)
    print(f"wrote {len(rows)} intervals to {args.out}")
    return 0


def _os_user() -> str:
    """Who ran an admin command: the operating system's user, as `report` records it."""
    return getpass.getuser()


def _names(text: str, known: list[str], flag: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name not in known:
            raise InputError(f"{flag}: expected some of {', '.join(known)}, found {name!r}")
    return names
