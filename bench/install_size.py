"""How big Switchboard's install is: the venv on disk, and what a plain index downloads.

    .venv/bin/python bench/install_size.py [--dev] [--skip-venv] [--skip-download]

venv       a fresh venv in a temporary directory, `pip install .` (the runtime
           dependencies; `--dev` adds the dev extras), measured with its files' sizes.
           This install uses the machine's pip configuration (local wheel caches), which
           changes where files come from, not which files.
download   what a new user's `pip install .` fetches from a plain index: the resolution
           of `pip install --dry-run --report` with every local pip setting switched off
           (PIP_CONFIG_FILE=/dev/null, PIP_* variables dropped; on this machine
           /etc/xdg/pip caps torch and adds local wheel directories), then those very
           files fetched with `pip download --no-deps` and their sizes added up.
Targets (issue 20): venv <= 500 MB, download <= 300 MB. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from _common import ROOT, print_json_line

VENV_TARGET_MB = 500
DOWNLOAD_TARGET_MB = 300
MB = 1_000_000


def tree_mb(path: Path) -> float:
    """Bytes of the regular files under `path` (symlinks not followed), in MB."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = Path(folder, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total / MB


def plain_pip_env() -> dict[str, str]:
    """The environment minus every local pip setting: what a plain index gives."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no configuration file at all
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def fresh_venv(where: Path, python: str) -> Path:
    subprocess.run([python, "-m", "venv", str(where)], check=True)
    return where / "bin" / "python"


def venv_size(python: str, dev: bool) -> tuple[float, int]:
    """(MB on disk, packages) of a fresh venv with the project installed."""
    with tempfile.TemporaryDirectory(prefix="switchboard-size-") as tmp:
        venv = Path(tmp) / "venv"
        pip = [str(fresh_venv(venv, python)), "-m", "pip"]
        target = f"{ROOT}[dev]" if dev else str(ROOT)
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "--quiet", target], check=True)
        listed = subprocess.run(
            [*pip, "list", "--format", "json"], check=True, capture_output=True, text=True
        )
        return tree_mb(venv), len(json.loads(listed.stdout))


def plain_download(python: str) -> tuple[float, list[tuple[str, float]]]:
    """(MB in total, [(file, MB)] largest first) of what a plain `pip install .` fetches."""
    env = plain_pip_env()
    with tempfile.TemporaryDirectory(prefix="switchboard-download-") as tmp:
        report = Path(tmp) / "report.json"
        pip = [str(fresh_venv(Path(tmp) / "venv", python)), "-m", "pip"]
        dry_run = ["install", "--quiet", "--dry-run", "--ignore-installed", "--report"]
        subprocess.run([*pip, *dry_run, str(report), str(ROOT)], check=True, env=env)
        urls = [
            item["download_info"]["url"]
            for item in json.loads(report.read_text(encoding="utf-8"))["install"]
            if item["download_info"]["url"].startswith(("http://", "https://"))
        ]
        dest = Path(tmp) / "files"
        subprocess.run(
            [*pip, "download", "--quiet", "--no-deps", "--dest", str(dest), *urls],
            check=True,
            env=env,
        )
        files = sorted(
            ((file.name, file.stat().st_size / MB) for file in dest.iterdir()),
            key=lambda item: -item[1],
        )
    return sum(size for _, size in files), files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="measure the venv with dev extras")
    parser.add_argument("--skip-venv", action="store_true")
    parser.add_argument("--skip-download", action="store_true")
    parser.add_argument("--python", default="python3.11", help="interpreter of the new venvs")
    args = parser.parse_args()

    figures: dict[str, object] = {}
    if not args.skip_venv:
        size, packages = venv_size(args.python, args.dev)
        what = "with dev extras" if args.dev else "runtime"
        print(f"fresh venv ({what}): {size:.0f} MB, {packages} packages")
        figures.update(venv_mb=round(size), venv_packages=packages, venv_dev=args.dev)
        figures["venv_target_met"] = size <= VENV_TARGET_MB
    if not args.skip_download:
        total, files = plain_download(args.python)
        print(f"plain index download: {total:.0f} MB in {len(files)} files; largest:")
        for name, size in files[:8]:
            print(f"  {size:7.1f} MB  {name}")
        figures.update(download_mb=round(total), download_files=len(files))
        figures["largest_download"] = files[0][0] if files else None
        figures["download_target_met"] = total <= DOWNLOAD_TARGET_MB
        figures["torch_downloaded"] = any(name.startswith("torch-") for name, _ in files)
    print_json_line(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
