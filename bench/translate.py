"""Chat translation throughput and latency of both engines, on real chat sentences.

    .venv/bin/python bench/translate.py [--model FILE.argosmodel] [--messages 300]

Messages are one to three sentences a customer or an agent writes (below, in Spanish and
English), with an order number, so that every message is new to the Translator's cache.

Argos: without --model the tiny test model is built (tests/i18n/tiny_model.py: 1 layer,
16 dimensions, trained on nothing), so its figures measure the pipeline (MiniSBD sentence
splitting, SentencePiece, CTranslate2, our cache and bookkeeping), not a real model's
quality or cost. Over the same English messages:
  raw      argostranslate's PackageTranslation alone (the baseline of this run)
  cold     Translator.translate, every message new to the cache
           (raw and cold interleaved message by message, after a warm-up)
  cached   Translator.translate again: LRU hits
Apertium (Debian's apertium-eng-spa): Translator.translate es→en and en→es in turn, each
message new, through the long-lived pipelines; `first` is a pipeline's start (the first
message of a direction); the baseline is one `apertium` process per message, the way the
command line runs it, interleaved with the pipeline on the first messages.
The last line is one JSON object: messages_per_s, p50_ms, p99_ms (Argos, cold),
apertium_messages_per_s, apertium_p50_ms, apertium_p99_ms, venv_mb and the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import ROOT, percentile, print_json_line
from install_size import tree_mb

sys.path.insert(0, str(ROOT / "tests" / "i18n"))

SPANISH = [
    "Necesito ayuda con mi cuenta.",
    "¿Dónde está mi maleta?",
    "Mi vuelo fue cancelado esta mañana.",
    "Quiero cambiar mi reserva para mañana.",
    "No puedo entrar en la aplicación.",
    "La tarjeta fue rechazada dos veces.",
    "¿Cuánto cuesta el equipaje adicional?",
    "Gracias por su ayuda.",
    "Perdí mi pasaporte en el aeropuerto.",
    "¿Puedo elegir un asiento junto a la ventana?",
    "El pago no aparece en mi cuenta.",
    "Mi hijo viaja solo la semana que viene.",
    "¿A qué hora sale el próximo tren?",
    "Quiero hablar con un agente, por favor.",
    "Recibí un correo que no entiendo.",
    "La factura tiene un error en la dirección.",
]
ENGLISH = [
    "I need help with my account.",
    "Where is my bag?",
    "Your flight leaves at seven in the morning.",
    "I can change your booking for tomorrow.",
    "Please check your email and try again.",
    "The payment was refunded yesterday.",
    "Extra baggage costs thirty euros.",
    "Thank you for waiting.",
    "Can you give me your booking number?",
    "I have sent you a new password.",
    "The train is delayed by twenty minutes.",
    "Your son can travel alone with our service.",
    "I am sorry for the trouble.",
    "Is there anything else I can help you with?",
    "The invoice will be corrected today.",
    "Your seat is next to the window.",
]


def messages(sentences: Sequence[str], count: int, number: str, seed: int = 5) -> list[str]:
    """`count` different messages of 1-3 sentences, each with its own order number."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        picked = rng.sample(sentences, rng.randint(1, 3))
        out.append(" ".join([*picked, number.format(1000 + index)]))
    return out


def timed(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for text in texts:
        began = time.perf_counter()
        fn(text)
        latencies.append((time.perf_counter() - began) * 1000)
    return time.perf_counter() - start, latencies


def bench_argos(base: Path, model: str | None, count: int) -> dict[str, object]:
    from i18n import argos
    from i18n.translation import Translator, install_model
    from i18n.translation_settings import TranslationSettings

    if model:
        model_file = Path(model)
    else:
        from tiny_model import build_tiny_package

        words = [w for s in ENGLISH for w in s.split()] + ["Order", "number"]
        target = [w for s in SPANISH for w in s.split()]
        model_file = build_tiny_package(base / "build", "en", "es", words, target)
    installed = install_model(model_file, base / "packages")
    source, target_code = installed.source, installed.target
    texts = messages(ENGLISH, count, "Order number {}.")

    package, translate, _ = argos.modules()
    pkg = package.Package(installed.path)
    raw = translate.PackageTranslation(
        translate.Language(source, source), translate.Language(target_code, target_code), pkg
    )
    translator = Translator(base / "packages", settings=TranslationSettings(engines=("argos",)))
    for text in messages(ENGLISH, 20, "Ticket {}.", seed=99):  # model load, ONNX session
        raw.translate(text)
        translator.translate(text, source, target_code)
    raw_ms: list[float] = []
    cold_ms: list[float] = []
    for text in texts:  # interleaved, so that both see the same noise of a shared box
        raw_ms.extend(timed(raw.translate, [text])[1])
        cold_ms.extend(timed(lambda t: translator.translate(t, source, target_code), [text])[1])
    raw_s, cold_s = sum(raw_ms) / 1000, sum(cold_ms) / 1000
    hot_s, hot_ms = timed(lambda t: translator.translate(t, source, target_code), texts)
    errors = sum(1 for t in texts if translator.translate(t, source, target_code).error)
    n = len(texts)
    return {
        "model": model_file.name,
        "pair": f"{source}-{target_code}",
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
        "errors": errors,
    }


def bench_apertium(count: int, per_process: int) -> dict[str, object]:
    from i18n.translation import Translator
    from i18n.translation_settings import TranslationSettings

    translator = Translator(settings=TranslationSettings(engines=("apertium",)))
    if not {("es", "en"), ("en", "es")} <= set(translator.pairs()):
        raise SystemExit("apertium-eng-spa is not installed: bash scripts/system-deps.sh")
    spanish = messages(SPANISH, count, "Pedido {}.")
    english = messages(ENGLISH, count, "Order {}.")
    work = [
        (spanish[i], "es", "en") if i % 2 == 0 else (english[i], "en", "es") for i in range(count)
    ]
    first_ms = []  # each direction's pipeline starts on its first message
    for text, source, target in (("Hola.", "es", "en"), ("Hello.", "en", "es")):
        began = time.perf_counter()
        translator.translate(text, source, target)
        first_ms.append((time.perf_counter() - began) * 1000)
    modes = {"es-en": "spa-eng", "en-es": "eng-spa"}
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    pipeline_ms: list[float] = []
    process_ms: list[float] = []
    errors = 0
    for index, (text, source, target) in enumerate(work):
        began = time.perf_counter()
        result = translator.translate(text, source, target)
        pipeline_ms.append((time.perf_counter() - began) * 1000)
        errors += 0 if result.translated else 1
        if index < per_process:
            mode = modes[f"{source}-{target}"]
            began = time.perf_counter()
            command = ["apertium", "-u", mode]
            subprocess.run(command, input=text.encode(), env=env, check=True, capture_output=True)
            process_ms.append((time.perf_counter() - began) * 1000)
    translator.close()
    total_s = sum(pipeline_ms) / 1000
    paired = pipeline_ms[: len(process_ms)]
    return {
        "apertium_messages": len(work),
        "apertium_messages_per_s": round(len(work) / total_s, 1),
        "apertium_p50_ms": round(percentile(pipeline_ms, 50), 2),
        "apertium_p99_ms": round(percentile(pipeline_ms, 99), 2),
        "apertium_first_ms": round(max(first_ms), 1),
        "apertium_per_process_p50_ms": round(percentile(process_ms, 50), 1),
        "apertium_pipeline_speedup": round(sum(process_ms) / sum(paired), 1) if paired else None,
        "apertium_errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=".argosmodel to install (default: the tiny test model)")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--per-process", type=int, default=30, help="baseline messages")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        base = Path(tmp)
        os.environ["SWITCHBOARD_ARGOS_DIR"] = str(base / "argos")
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(base / name.lower())
        result = bench_argos(base, args.model, args.messages)
    result.update(bench_apertium(args.messages, args.per_process))
    result["venv_mb"] = round(tree_mb(Path(sys.prefix)))

    print(f"raw argostranslate: {result['baseline_raw_messages_per_s']} msg/s")
    print(
        f"Argos via Translator (cold): {result['messages_per_s']} msg/s, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; "
        f"cached {result['cached_messages_per_s']} msg/s"
    )
    print(
        f"Apertium via Translator: {result['apertium_messages_per_s']} msg/s, "
        f"p50 {result['apertium_p50_ms']} ms, p99 {result['apertium_p99_ms']} ms, "
        f"pipeline start {result['apertium_first_ms']} ms; one process per message: "
        f"p50 {result['apertium_per_process_p50_ms']} ms "
        f"({result['apertium_pipeline_speedup']}x slower)"
    )
    print(f"venv of this run ({sys.prefix}): {result['venv_mb']} MB")
    print_json_line(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
