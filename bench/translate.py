"""Chat translation throughput and latency through an installed Argos model.

    .venv/bin/python bench/translate.py [--model FILE.argosmodel] [--messages 300]

Without --model it builds the tiny test model (tests/i18n/tiny_model.py: 1 layer,
16 dimensions), so the figures then measure the pipeline (sentence splitting,
SentencePiece, CTranslate2, our cache and bookkeeping), not a real model's quality or
cost. Everything lives in a temporary directory. Over the same messages:
  raw      argostranslate's PackageTranslation alone (the baseline of this run)
  cold     Translator.translate, every message new to the cache
           (raw and cold interleaved message by message, after a warm-up)
  cached   Translator.translate again: LRU hits
The last line is one JSON object: messages_per_s, p50_ms, p99_ms (the cold pass) and
the ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "i18n"))

CHAT_TEXT = (
    "hello my bag is lost where is my flight thank you please help i need to change "
    "the booking for tomorrow morning can you check seat window aisle refund delay gate"
)
CHAT_WORDS = CHAT_TEXT.split()


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


def messages(words: Sequence[str], count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        length = rng.randint(3, 14)
        text = " ".join(rng.choice(words) for _ in range(length))
        out.append(f"{text} {index}." if rng.random() < 0.3 else f"{text}?")
    return out


def timed(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for text in texts:
        began = time.perf_counter()
        fn(text)
        latencies.append((time.perf_counter() - began) * 1000)
    return time.perf_counter() - start, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=".argosmodel to install (default: the tiny test model)")
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        base = Path(tmp)
        os.environ["SWITCHBOARD_ARGOS_DIR"] = str(base / "argos")
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(base / name.lower())

        from i18n import argos
        from i18n.translation import Translator, install_model

        if args.model:
            model_file = Path(args.model)
        else:
            from tiny_model import build_tiny_package

            model_file = build_tiny_package(base / "build", "en", "es", source_words=CHAT_WORDS)
        installed = install_model(model_file, base / "packages")
        source, target = installed.source, installed.target
        texts = messages(CHAT_WORDS, args.messages)

        package, translate, _ = argos.modules()
        pkg = package.Package(installed.path)
        raw = translate.PackageTranslation(
            translate.Language(source, source), translate.Language(target, target), pkg
        )
        translator = Translator(base / "packages")
        # Warm both paths (model load, ONNX session, first-call costs) on other messages.
        for text in messages(CHAT_WORDS, 20, seed=99):
            raw.translate(text)
            translator.translate(text, source, target)
        # Interleaved, message by message, so that both see the same noise of a shared box.
        raw_ms: list[float] = []
        cold_ms: list[float] = []
        for text in texts:
            raw_ms.extend(timed(raw.translate, [text])[1])
            cold_ms.extend(timed(lambda t: translator.translate(t, source, target), [text])[1])
        raw_s, cold_s = sum(raw_ms) / 1000, sum(cold_ms) / 1000
        hot_s, hot_ms = timed(lambda t: translator.translate(t, source, target), texts)
        misses = [t for t in texts if translator.translate(t, source, target).error]

    n = len(texts)
    result = {
        "model": model_file.name,
        "pair": f"{source}-{target}",
        "messages": n,
        "messages_per_s": round(n / cold_s, 1),
        "p50_ms": round(percentile(cold_ms, 50), 3),
        "p99_ms": round(percentile(cold_ms, 99), 3),
        "baseline_raw_messages_per_s": round(n / raw_s, 1),
        "baseline_raw_p50_ms": round(percentile(raw_ms, 50), 3),
        "overhead_ratio_vs_raw": round(cold_s / raw_s, 3),
        "cached_messages_per_s": round(n / hot_s, 1),
        "cached_p99_ms": round(percentile(hot_ms, 99), 4),
        "cache_speedup": round(cold_s / hot_s, 1),
        "errors": len(misses),
    }
    print(f"raw argostranslate: {result['baseline_raw_messages_per_s']} msg/s")
    print(
        f"Translator (cold):  {result['messages_per_s']} msg/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms"
    )
    print(f"Translator (cached): {result['cached_messages_per_s']} msg/s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
