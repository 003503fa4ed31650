"""How big Switchboard's install is: the venv on disk, and what a plain index downloads.

    .venv/bin/python bench/install_size.py [--dev] [--skip-venv] [--skip-download]
                                           [--skip-apertium] [--python python3.11]

venv       a fresh venv in a temporary directory (made with `--python`), `pip install .`
           (the runtime dependencies; `--dev` adds the dev extras), measured with its
           files' sizes, per distribution too; then a second fresh venv with
           `pip install '.[argos]'`, its size and the share only translation needs
           (argos-translate-lt and what it alone pulls in).
           These installs use the machine's pip configuration (local wheel caches), which
           changes where files come from, not which files.
download   what a new user's install fetches from a plain index: the resolution
           of `pip install --dry-run --report` with every local pip setting switched off
           (PIP_CONFIG_FILE=/dev/null, PIP_* variables dropped; on this machine
           /etc/xdg/pip caps torch and adds local wheel directories), then those very
           files fetched with `pip download --no-deps` and their sizes added up.
           Measured once, for `pip install '.[argos]'` (the neural engine), the heavier
           of the two installs: `pip install .` fetches a subset of it (Apertium's
           translation needs nothing from pip), and is not measured apart.
apertium   the Debian packages of the Apertium engine that scripts/system-deps.sh
           installs (apertium, cg3 and the pairs: English-Spanish, and French-,
           Portuguese-, Italian-Spanish that reach English through Spanish), by
           dpkg's Installed-Size (what they need beyond that, lttoolbox and the like, is
           not added); a package not installed is listed as missing.
Targets (issue 20): venv <= 500 MB, download <= 300 MB. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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


# Run inside the new venv: each distribution's installed bytes and its requirements.
_SIZES = """
import json
from importlib import metadata
from packaging.requirements import Requirement
out = {}
for dist in metadata.distributions():
    files = [f.locate() for f in dist.files or []]
    size = sum(p.stat().st_size for p in files if p.is_file())
    needs = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            needs.append(req.name)
    out[dist.metadata["Name"]] = {"bytes": size, "needs": needs}
print(json.dumps(out))
"""


def _key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _closure(roots: list[str], needs: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [_key(r) for r in roots]
    while todo:
        name = todo.pop()
        if name not in seen and name in needs:
            seen.add(name)
            todo.extend(_key(n) for n in needs[name])
    return seen


def _source_copy(dest: Path) -> Path:
    """The project's files without build leftovers: pip builds a local tree in place."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".*_cache"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def venv_size(python: str, extras: str) -> dict[str, object]:
    """Size of a fresh venv with the project (and `extras`) installed, by distribution."""
    with tempfile.TemporaryDirectory(prefix="switchboard-size-") as tmp:
        venv = Path(tmp) / "venv"
        venv_python = str(fresh_venv(venv, python))
        pip = [venv_python, "-m", "pip"]
        source = _source_copy(Path(tmp) / "src")
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run(
            [*pip, "install", "--quiet", f"{source}[{extras}]" if extras else str(source)],
            check=True,
        )
        sizes = json.loads(
            subprocess.run(
                [venv_python, "-c", _SIZES], check=True, capture_output=True, text=True
            ).stdout
        )
        total = tree_mb(venv)
    by_name = {_key(name): info for name, info in sizes.items()}
    needs = {name: info["needs"] for name, info in by_name.items()}
    top = by_name["switchboard"]["needs"]
    translation = (
        _closure(["argos-translate-lt"], needs) if "argos-translate-lt" in by_name else set()
    )
    others = _closure([n for n in top if _key(n) != "argos-translate-lt"], needs)
    only_translation = translation - others
    largest = sorted(by_name.items(), key=lambda item: -item[1]["bytes"])[:12]
    return {
        "venv_mb": round(total),
        "venv_packages": len(by_name),
        "translation_only_mb": round(sum(by_name[n]["bytes"] for n in only_translation) / MB),
        "translation_only_packages": sorted(only_translation),
        "largest_packages_mb": {name: round(info["bytes"] / MB) for name, info in largest},
    }


def plain_download(python: str) -> tuple[float, list[tuple[str, float]]]:
    """(MB in total, [(file, MB)] largest first) of what a plain `pip install '.[argos]'`
    fetches (the heavier of the two installs)."""
    env = plain_pip_env()
    with tempfile.TemporaryDirectory(prefix="switchboard-download-") as tmp:
        report = Path(tmp) / "report.json"
        pip = [str(fresh_venv(Path(tmp) / "venv", python)), "-m", "pip"]
        dry_run = ["install", "--quiet", "--dry-run", "--ignore-installed", "--report"]
        subprocess.run([*pip, *dry_run, str(report), f"{ROOT}[argos]"], check=True, env=env)
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


# The packages system-deps.sh names, `[apertium-eng-spa]=...`: the script is the one list.
_DEB = re.compile(r"^\s*\[((?:apertium|cg3)[\w.+-]*)\]=", re.MULTILINE)


def apertium_size() -> dict[str, object]:
    """Installed size (dpkg's Installed-Size, KiB) of the Apertium packages the project's
    system-deps.sh installs, each and in all."""
    script = (ROOT / "scripts" / "system-deps.sh").read_text(encoding="utf-8")
    packages = sorted(set(_DEB.findall(script)))
    fields = "${Package}\t${Installed-Size}\t${db:Status-Abbrev}\n"
    listed = subprocess.run(
        ["dpkg-query", "-W", "-f", fields, *packages],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    sizes = {
        name: int(kib) * 1024 / MB
        for name, kib, status in (line.split("\t") for line in listed.splitlines())
        if status.startswith("ii") and kib
    }
    return {
        "apertium_mb": round(sum(sizes.values()), 1),
        "apertium_packages_mb": {name: round(size, 1) for name, size in sorted(sizes.items())},
        "apertium_missing": [name for name in packages if name not in sizes],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="measure the venv with dev extras")
    parser.add_argument("--skip-venv", action="store_true")
    parser.add_argument("--skip-download", action="store_true")
    parser.add_argument("--skip-apertium", action="store_true")
    parser.add_argument("--python", default="python3.11", help="interpreter of the new venvs")
    args = parser.parse_args()

    figures: dict[str, object] = {}
    if not args.skip_venv:
        venv = venv_size(args.python, "dev" if args.dev else "")
        what = "with dev extras" if args.dev else "runtime"
        print(f"fresh venv ({what}): {venv['venv_mb']} MB, {venv['venv_packages']} packages")
        for name, size in venv["largest_packages_mb"].items():  # type: ignore[attr-defined]
            print(f"  {size:5d} MB  {name}")
        figures.update(venv, venv_dev=args.dev)
        figures["venv_target_met"] = venv["venv_mb"] <= VENV_TARGET_MB  # type: ignore[operator]
        argos = venv_size(args.python, "dev,argos" if args.dev else "argos")
        print(
            f"  with the Argos engine ('.[argos]'): {argos['venv_mb']} MB, of which only it "
            f"needs {argos['translation_only_mb']} MB"
        )
        figures["venv_with_argos_mb"] = argos["venv_mb"]
        figures["translation_only_mb"] = argos["translation_only_mb"]
        figures["translation_only_packages"] = argos["translation_only_packages"]
    if not args.skip_download:
        total, files = plain_download(args.python)
        print(f"plain index download: {total:.0f} MB in {len(files)} files; largest:")
        for name, size in files[:8]:
            print(f"  {size:7.1f} MB  {name}")
        figures.update(download_mb=round(total), download_files=len(files))
        figures["largest_download"] = files[0][0] if files else None
        figures["download_target_met"] = total <= DOWNLOAD_TARGET_MB
        figures["torch_downloaded"] = any(name.startswith("torch-") for name, _ in files)
    if not args.skip_apertium:
        apertium = apertium_size()
        print(f"Apertium's Debian packages: {apertium['apertium_mb']} MB")
        for name, size in apertium["apertium_packages_mb"].items():  # type: ignore[attr-defined]
            print(f"  {size:7.1f} MB  {name}")
        if apertium["apertium_missing"]:
            print(f"  not installed: {', '.join(apertium['apertium_missing'])}")  # type: ignore[arg-type]
        figures.update(apertium)
    print_json_line(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
