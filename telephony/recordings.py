"""The node's recordings directory: finding a recording by name, and retention.

Workers write `<contact>.wav` (`<contact>-2.wav`... for a contact recorded twice) into
`[recording] directory`; the contact record lists the names. Supervisors' playback (HTTP,
audited) asks for a file by its name: only a plain name of a WAV in the directory is
served. Files older than the retention (`[recording] retention_days`, by default
`[privacy] retention_days`) are deleted.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"[0-9A-Za-z_.-]+\.wav")
DAY_S = 86_400


class UnknownRecording(LookupError):
    """No recording of that name (or a name that is not one)."""


def recording_path(directory: Path, name: str) -> Path:
    """The file of a recording listed on a contact; UnknownRecording for anything else."""
    if not _NAME.fullmatch(name) or name.startswith("."):
        raise UnknownRecording(f"not a recording name: {name!r}")
    path = directory / name
    if not path.is_file():
        raise UnknownRecording(f"no recording {name!r} in {directory}")
    return path


def purge(directory: Path, retention_days: float, now_s: float | None = None) -> list[Path]:
    """Delete the recordings older than the retention; the deleted files."""
    if retention_days <= 0 or not directory.is_dir():
        return []
    cutoff = (time.time() if now_s is None else now_s) - retention_days * DAY_S
    deleted = []
    for path in directory.glob("*.wav"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted.append(path)
        except FileNotFoundError:
            continue  # deleted meanwhile
    if deleted:
        log.info("recordings: %d deleted (older than %g days)", len(deleted), retention_days)
    return deleted
