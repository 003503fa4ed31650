"""A rendered prompt played to a caller over a real SIP call (pjsua2, UDP, RTP on loopback)."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from i18n.prompts import PromptCatalog, render_prompt

HERE = Path(__file__).resolve().parent


def free_udp_ports(count: int) -> int:
    """A base port with `count` free UDP ports after it (bounded tries)."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 2)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free UDP port range on 127.0.0.1")


def samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        assert (handle.getframerate(), handle.getsampwidth(), handle.getnchannels()) == (8000, 2, 1)
        data = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return data.astype(np.float64)


def best_correlation(sent: np.ndarray, heard: np.ndarray, max_lag: int) -> float:
    """Highest normalized correlation of `sent` with `heard` delayed by 0..max_lag samples."""
    n = len(sent)
    padded = np.concatenate([heard, np.zeros(n + max_lag)])
    size = 1 << int(np.ceil(np.log2(len(padded) + n)))
    # Cross-correlation by FFT: numerator[lag] = sum(sent[i] * heard[lag + i]).
    spectrum = np.fft.rfft(padded, size) * np.conj(np.fft.rfft(sent, size))
    numerator = np.fft.irfft(spectrum, size)[: max_lag + 1]
    energy = np.concatenate([[0.0], np.cumsum(padded**2)])
    windows = np.sqrt(energy[n : n + max_lag + 1] - energy[: max_lag + 1])
    norms = np.linalg.norm(sent) * windows
    valid = norms > 0
    return float(np.max(numerator[valid] / norms[valid])) if valid.any() else 0.0


def chunk_matches(sent: np.ndarray, heard: np.ndarray, chunk: int = 1200) -> list[float]:
    """For each voiced 0.15 s piece of `sent`, its best normalized correlation in `heard`.

    Piecewise, because a jitter buffer on a busy machine may drop or stretch a frame
    mid-call, which shifts everything after it and spoils one whole-signal correlation;
    short pieces, so that a dropped frame spoils few of them (measured with four busy
    loops on the two cores: 0.3 s pieces' lower quartile fell to 0.88, 0.15 s pieces'
    stayed at 0.99, while another prompt's pieces match at a median of 0.55).
    """
    loudness = np.sqrt(np.mean(sent**2))
    scores = []
    for start in range(0, len(sent) - chunk, chunk):
        piece = sent[start : start + chunk]
        if np.sqrt(np.mean(piece**2)) > 0.3 * loudness:
            scores.append(best_correlation(piece, heard, max_lag=len(heard) - 1))
    return scores


def test_prompt_is_heard_by_the_caller(tmp_path: Path):
    text = PromptCatalog().text("queue_position", "de", position=3, minutes=4)
    prompt = render_prompt(text, "de", tmp_path / "prompts")
    heard = tmp_path / "heard.wav"
    rtp = free_udp_ports(20)
    sip = free_udp_ports(1)
    process = subprocess.run(
        [sys.executable, str(HERE / "sip_playback.py"), "--wav", str(prompt),
         "--record", str(heard), "--sip-port", str(sip), "--rtp-port", str(rtp),
         "--timeout", "30"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
    assert json.loads(lines[-1]) == {"answered": True, "played": True, "recorded": True}

    sent, received = samples(prompt), samples(heard)
    assert len(received) >= 0.9 * len(sent)
    # G.711 keeps the waveform: each voiced piece of the prompt is found in the recording.
    scores = chunk_matches(sent, received)
    assert len(scores) >= 5
    assert float(np.median(scores)) > 0.8, scores
    # Control: pieces of another prompt are not found in what the caller heard.
    other = samples(render_prompt(PromptCatalog().text("goodbye", "de"), "de", tmp_path))
    assert float(np.median(chunk_matches(other, received))) < 0.65
