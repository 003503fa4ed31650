"""Rule-based translation with Apertium: the pairs Debian ships as `apertium-xxx-yyy`.

A pair installs one mode file per direction (`modes/spa-eng.mode`): a shell pipeline of
Apertium programs. Starting that pipeline costs 0.2–1 s (it loads the dictionaries), so
an `ApertiumPipeline` starts it once, in null-flush mode (`apertium-wblank-mode -z`: every
program flushes at a NUL byte), and feeds it one message at a time, as apertium-apy does.
Only the text deformatter and reformatter (`apertium-destxt`, `apertium-retxt`, which
escape the stream format and drop the NUL) run per message; they take milliseconds.
apertium-apy itself is not used: it is a server of its own to supervise, and an HTTP hop,
for the same pipeline.

Mode names use ISO 639-3 codes (`spa`, `eng`); CLDR's language aliases (through babel)
give the codes the rest of Switchboard uses (`es`, `en`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from i18n.language import primary

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("/usr/share/apertium")
TIMEOUT_S = 10.0
# A code of letters and digits (a seat 12A, a flight BA2490, a booking X7K9PQ), in the
# deformatter's stream: not already escaped or in a superblank. Apertium reads "12A" as
# "12" and the article "a" ("12Un" in Spanish); made a superblank, it passes verbatim.
_CODE = re.compile(
    rb"(?<![\w\\\[])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])([A-Za-z0-9]+)(?![\w\]])"
)
# A space a moved superblank leaves before a full stop or comma ("ventana .")
_SPACE_BEFORE = re.compile(r" +(?=[.,])")
# Apertium's programs refuse to work outside a UTF-8 locale; C.UTF-8 is always there.
_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}


def language_code(apertium_code: str) -> str:
    """`spa` → `es`, `eng_US` → `en`, `ast` → `ast` (no two-letter code): CLDR's aliases."""
    return primary(apertium_code)


@dataclass(frozen=True)
class ApertiumMode:
    """One installed direction of an Apertium pair."""

    name: str  # spa-eng, spa-eng_US
    source: str  # es
    target: str  # en
    path: Path

    @property
    def variant(self) -> bool:
        """`spa-eng_US` and the like: chosen only when the plain mode is missing."""
        return "_" in self.name

    @property
    def package(self) -> str:
        """The data directory the mode reads (`apertium-eng-spa`), i.e. the Debian package."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return ""
        for word in text.replace("'", " ").split():
            parent = Path(word).parent
            if parent.name.startswith("apertium-"):
                return parent.name
        return ""


def installed_modes(data_dir: Path = DEFAULT_DATA_DIR) -> list[ApertiumMode]:
    """Every mode in `data_dir/modes`, sorted by name (nothing when Apertium is absent)."""
    modes_dir = data_dir / "modes"
    if not modes_dir.is_dir():
        return []
    found = []
    for path in sorted(modes_dir.glob("*.mode")):
        parts = path.stem.split("-")
        if len(parts) != 2 or not all(parts):
            continue
        found.append(
            ApertiumMode(path.stem, language_code(parts[0]), language_code(parts[1]), path)
        )
    return found


def available() -> bool:
    """The programs a pipeline needs are installed (the `apertium` Debian package)."""
    return all(
        shutil.which(tool) for tool in ("apertium-wblank-mode", "apertium-destxt", "apertium-retxt")
    )


def _run(command: list[str], data: bytes) -> bytes:
    done = subprocess.run(
        command, input=data, capture_output=True, env=_ENV, timeout=TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _stop_running(holder: list[subprocess.Popen[bytes] | None]) -> None:
    """End a pipeline: EOF first (each program then exits), its process group if it lingers."""
    process, holder[0] = holder[0], None
    if process is None:
        return
    if process.poll() is None:
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process.stdout:
        process.stdout.close()


class ApertiumPipeline:
    """One mode's programs, started on first use and kept; one message at a time."""

    def __init__(self, mode: ApertiumMode, timeout_s: float = TIMEOUT_S) -> None:
        self.mode = mode
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        # The running process, in a list the finalizer shares (it must not hold `self`).
        self._process: list[subprocess.Popen[bytes] | None] = [None]
        # The programs' messages, read when the pipeline fails; kept as long as the pipeline.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        weakref.finalize(self, _stop_running, self._process)
        self.starts = 0

    def _start(self) -> subprocess.Popen[bytes]:
        script = _run(["apertium-wblank-mode", "-z", str(self.mode.path)], b"").decode()
        # $1 is the generator's option (-n: no marks on unknown words), $2 the tagger's (none).
        process = subprocess.Popen(
            ["bash", "-c", script, "apertium", "-n", ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_ENV,
            start_new_session=True,  # its own process group, ended as one
        )
        self._process[0] = process
        self.starts += 1
        return process

    def _exchange(self, process: subprocess.Popen[bytes], data: bytes) -> bytes:
        """Send one message and read its translation up to the NUL, both at once: a long
        message must not fill the output pipe while its end is still being written."""
        assert process.stdin is not None and process.stdout is not None
        pending = data + b"\0"
        fd_in, fd_out = process.stdin.fileno(), process.stdout.fileno()
        deadline = time.monotonic() + self.timeout_s
        chunks: list[bytes] = []
        while True:
            left = deadline - time.monotonic()
            writers = [fd_in] if pending else []
            readable, writable, _ = select.select([fd_out], writers, [], max(left, 0))
            if left <= 0 or not (readable or writable):
                raise TimeoutError(f"apertium {self.mode.name}: stalled for {self.timeout_s} s")
            deadline = time.monotonic() + self.timeout_s  # a stall is a lack of progress
            if writable:  # PIPE_BUF bytes never block once select says writable
                written = os.write(fd_in, pending[: select.PIPE_BUF])
                pending = pending[written:]
            if readable:
                chunk = os.read(fd_out, 65536)
                if not chunk:
                    raise RuntimeError(f"apertium {self.mode.name} ended: {self._last_error()}")
                chunks.append(chunk)
                if chunk.endswith(b"\0"):
                    return b"".join(chunks)[:-1]

    def _last_error(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def translate(self, text: str) -> str:
        """`text` translated; raises (and restarts on the next call) when the pipeline fails."""
        data = _CODE.sub(rb"[\1]", _run(["apertium-destxt"], text.encode()))
        with self._lock:
            process = self._process[0]
            if process is None or process.poll() is not None:
                process = self._start()
            try:
                raw = self._exchange(process, data)
                if text.strip() and not raw.replace(b"\0", b"").strip():
                    # A program of the mode failed (not installed: apertium-spa-ita runs
                    # cg-proc without depending on cg3) and the rest flushed nothing, or
                    # NULs only (each program's flush at its input's end).
                    raise RuntimeError(
                        f"apertium {self.mode.name} gave no text: {self._last_error()}"
                    )
            except BaseException:
                _stop_running(self._process)
                raise
        translated = _run(["apertium-retxt"], raw).decode().strip()
        return translated if _SPACE_BEFORE.search(text) else _SPACE_BEFORE.sub("", translated)

    def close(self) -> None:
        with self._lock:
            _stop_running(self._process)

    @property
    def running(self) -> bool:
        process = self._process[0]
        return process is not None and process.poll() is None


class ApertiumEngine:
    """The Apertium pairs of one data directory, a pipeline per direction used."""

    name = "apertium"

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._pipelines: dict[str, ApertiumPipeline] = {}
        self._listing: dict[tuple[str, str], ApertiumMode] = {}
        self._listed_stamp: int | None = None

    def modes(self) -> dict[tuple[str, str], ApertiumMode]:
        """(source, target) → mode, listed again when the modes directory changes."""
        try:
            stamp = (self.data_dir / "modes").stat().st_mtime_ns
        except OSError:
            stamp = -1
        with self._lock:
            if stamp != self._listed_stamp:
                chosen: dict[tuple[str, str], ApertiumMode] = {}
                usable = available()
                for mode in installed_modes(self.data_dir) if usable else []:
                    pair = (mode.source, mode.target)
                    if mode.source != mode.target and (pair not in chosen or chosen[pair].variant):
                        chosen[pair] = mode
                self._listing, self._listed_stamp = chosen, stamp
            return self._listing

    def pairs(self) -> set[tuple[str, str]]:
        return set(self.modes())

    def translate(self, text: str, source: str, target: str) -> str:
        mode = self.modes()[(source, target)]
        with self._lock:
            pipeline = self._pipelines.get(mode.name)
            if pipeline is None:
                pipeline = self._pipelines[mode.name] = ApertiumPipeline(mode)
        return pipeline.translate(text)

    def close(self) -> None:
        """End every pipeline (they also end when this process does: their input closes)."""
        with self._lock:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            pipeline.close()
