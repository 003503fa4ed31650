"""How cheap can a routing decision get on this server? The floor under bench/routing.py.

The flat-out target (0.6 x the bare round-trip ceiling) is a budget for the server's one
main thread: at 0.6 x C decisions/s it may spend at most 1 / (0.6 x C) seconds on each.
This bench measures, in one run, against that budget:

- the server CPU of a call that does nothing (`FCALL` of `return 1`), alone and 16 to a
  pipeline: the fixed cost of the three routing calls a decision makes;
- `bench/routing.py` flat out with the real library and with a *stripped* copy of it,
  alternating, so that both meet the same box: the stripped copy keeps only routing
  itself (the contact, the scan, the agent's indexes, the ring timer, the events) and
  drops every counter, the records stream, the live-contact sets, the customer history,
  the explanation lines, the wrap-up bookkeeping and the queue's departure times.

If even the stripped library costs more than the budget, no trimming of features meets
the target here (docs/routing.md, "Measured", has the figures and what remains).

    .venv/bin/python bench/routing_floor.py
    .venv/bin/python bench/routing_floor.py --pairs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis
from _common import print_json_line, redis_url
from _stripped_routing import stripped

from router.store import SOURCE

HERE = Path(__file__).resolve().parent


async def trivial_call_cpu_us(url: str, calls: int = 20000) -> dict[str, float]:
    """Server main-thread CPU per FCALL of `return 1`, alone and 16 to a pipeline."""
    client = aioredis.from_url(url)
    body = "#!lua name=floor\nredis.register_function('one', function() return 1 end)"
    await client.function_load(body, replace=True)
    figures = {}
    for batch in (1, 16):
        before = await _main_cpu_s(client)
        for _ in range(calls // batch):
            pipe = client.pipeline(transaction=False)
            for _ in range(batch):
                pipe.execute_command("FCALL", "one", 0)
            await pipe.execute()
        figures[f"batch_{batch}"] = round((await _main_cpu_s(client) - before) / calls * 1e6, 1)
    await client.aclose()
    return figures


async def _main_cpu_s(client: aioredis.Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys_main_thread"]) + float(info["used_cpu_user_main_thread"])


def flat_out(script: Path, seconds: float) -> dict[str, float]:
    """One short bench/routing.py run (one paced step, two flat-out rounds); its JSON."""
    command = [sys.executable, str(HERE / "routing.py"), "--rates", "250", "--step-s", "2"]
    command += ["--flat-rounds", "2", "--flat-s", str(seconds), "--script", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2, help="full/stripped runs, alternating")
    parser.add_argument("--flat-s", type=float, default=4.0, help="seconds per flat-out round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        with redis_url() as url:
            fixed = asyncio.run(trivial_call_cpu_us(url))
        print(f"server CPU of an FCALL that does nothing: {fixed} us", flush=True)
        scripts = {"full": Path(work) / "full.lua", "stripped": Path(work) / "stripped.lua"}
        scripts["full"].write_text(SOURCE)
        scripts["stripped"].write_text(stripped(SOURCE))
        runs: dict[str, list[dict[str, float]]] = {"full": [], "stripped": []}
        for _ in range(args.pairs):
            for name, script in scripts.items():
                started = time.monotonic()
                figures = flat_out(script, args.flat_s)
                runs[name].append(figures)
                print(
                    f"{name:>8}: flat out {figures['decisions_per_s']:7.0f}/s, ceiling "
                    f"{figures['evalsha_per_s']:5.0f}/s, ratio {figures['ratio']:.2f}, server CPU "
                    f"{figures['server_cpu_us_per_decision']:5.1f} us, client "
                    f"{figures['client_cpu_us_per_decision']:5.1f} us per decision "
                    f"({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
    ceiling = max(r["evalsha_per_s"] for rs in runs.values() for r in rs)
    budget = 1e6 / (0.6 * ceiling)
    best = {name: min(r["server_cpu_us_per_decision"] for r in rs) for name, rs in runs.items()}
    print(
        f"budget at 0.6 x the ceiling ({ceiling:.0f}/s): {budget:.0f} us of server CPU per "
        f"decision; full library at best {best['full']:.0f} us, stripped {best['stripped']:.0f} us"
    )
    print_json_line(
        {
            "ceiling_per_s": round(ceiling, 1),
            "server_budget_us_at_0_6": round(budget, 1),
            "server_cpu_us_full": best["full"],
            "server_cpu_us_stripped": best["stripped"],
            "ratio_full": max(r["ratio"] for r in runs["full"]),
            "ratio_stripped": max(r["ratio"] for r in runs["stripped"]),
            "trivial_fcall_cpu_us": fixed,
        }
    )


if __name__ == "__main__":
    main()
