"""Typed reading of a TOML configuration that collects every fault before failing.

Each package validates its own section with a `ConfigReader`; a fault is recorded
as one line naming the file, the dotted key, what was expected and what was found,
so an operator fixes the whole file in one pass instead of one error per start.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from switchboard.common.errors import ConfigError

T = TypeVar("T")
_MISSING: Any = object()


class Faults:
    """The faults found in one file; raise them all at once with `raise_if_any`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self.asked: set[str] = set()  # dotted keys some reader looked for

    def add(self, key: str, expected: str, found: object) -> None:
        shown = "nothing" if found is _MISSING else repr(found)
        self._line(f"{self.path}: {key}: expected {expected}, found {shown}")

    def unknown(self, key: str, suggestion: str) -> None:
        self._line(f"{self.path}: {key}: unknown key{suggestion}")

    def include(self, error: ConfigError) -> None:
        """The faults of another file this one relies on (the IVR's locale profiles in
        config/locales.toml), each line naming its own file, in this file's report."""
        for line in str(error).splitlines():
            self._line(line)

    def _line(self, line: str) -> None:
        """Each fault once: two readers of one section (the node's check and voice's
        own) find the same fault, which the report names once."""
        if line not in self.lines:
            self.lines.append(line)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("\n".join(self.lines))


class ConfigReader:
    """A view of one TOML table; reads keys with a type and records faults instead of raising."""

    def __init__(self, table: dict[str, Any], faults: Faults, prefix: str = "") -> None:
        self.table = table
        self.faults = faults
        self.prefix = prefix

    @classmethod
    def open(cls, path: Path) -> ConfigReader:
        """Parse a TOML file; a syntax error is a fault of its own, raised at once. A
        UTF-8 byte-order mark (Windows Notepad's "UTF-8 with BOM") is passed over, as
        the CSV readers pass it over: TOML does not allow one, and tomllib's "Invalid
        statement (at line 1, column 1)" points at nothing an editor shows."""
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
            table = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
        except OSError as error:  # a folder, no permission
            raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
        return cls(table, Faults(path))

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def has(self, name: str) -> bool:
        self.faults.asked.add(self.key(name))
        return name in self.table

    def _read(self, name: str, default: Any, expected: str, check: Callable[[Any], bool]) -> Any:
        self.faults.asked.add(self.key(name))
        value = self.table.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.faults.add(self.key(name), expected, _MISSING)
            return default if default is not _MISSING else None
        if not check(value):
            self.faults.add(self.key(name), expected, value)
            return default if default is not _MISSING else None
        return value

    def string(self, name: str, default: Any = _MISSING, choices: tuple[str, ...] = ()) -> Any:
        expected = f"one of {', '.join(choices)}" if choices else "a string"
        return self._read(
            name,
            default,
            expected,
            lambda v: isinstance(v, str) and (not choices or v in choices),
        )

    def integer(
        self,
        name: str,
        default: Any = _MISSING,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> Any:
        expected = "an integer" + _bounds(minimum, maximum)
        return self._read(
            name,
            default,
            expected,
            lambda v: (
                isinstance(v, int)
                and not isinstance(v, bool)
                and (minimum is None or v >= minimum)
                and (maximum is None or v <= maximum)
            ),
        )

    def number(
        self,
        name: str,
        default: Any = _MISSING,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        expected = "a number" + _bounds(minimum, maximum)

        def check(v: Any) -> bool:
            return (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and (minimum is None or v >= minimum)
                and (maximum is None or v <= maximum)
            )

        value = self._read(name, default, expected, check)
        return float(value) if isinstance(value, int | float) else value

    def boolean(self, name: str, default: Any = _MISSING) -> Any:
        return self._read(name, default, "true or false", lambda v: isinstance(v, bool))

    def strings(self, name: str, default: Any = _MISSING) -> Any:
        return self._read(
            name,
            default,
            "a list of strings",
            lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
        )

    def section(self, name: str, required: bool = False) -> ConfigReader:
        """A sub-table; missing and optional gives an empty reader."""
        self.faults.asked.add(self.key(name))
        value = self.table.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.faults.add(self.key(name), "a table", _MISSING)
            return ConfigReader({}, self.faults, f"{self.key(name)}.")
        if not isinstance(value, dict):
            self.faults.add(self.key(name), "a table", value)
            return ConfigReader({}, self.faults, f"{self.key(name)}.")
        return ConfigReader(value, self.faults, f"{self.key(name)}.")

    def sections(self, name: str, required: bool = False) -> Iterator[ConfigReader]:
        """The tables of an array of tables (`[[queues]]`), each keyed `queues[i].`."""
        self.faults.asked.add(self.key(name))
        value = self.table.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.faults.add(self.key(name), "an array of tables", _MISSING)
            return
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.faults.add(self.key(name), "an array of tables", value)
            return
        for index, item in enumerate(value):
            yield ConfigReader(item, self.faults, f"{self.key(name)}[{index}].")

    def fault(self, name: str, expected: str, found: object) -> None:
        """Record a fault found by a check the typed readers cannot express."""
        self.faults.add(self.key(name), expected, found)

    def check_unknown_keys(self) -> None:
        """Record a fault for every key of this table no reader asked for, suggesting the
        nearest key that was asked for ("did you mean"). Call once every section's reader
        has run, so that a typo such as `max_chat` is not silently ignored."""
        for key, value in self.table.items():
            full = self.key(key)
            if full not in self.faults.asked:
                self.faults.unknown(full, _suggestion(full, self.faults.asked))
            elif isinstance(value, dict):
                ConfigReader(value, self.faults, f"{full}.").check_unknown_keys()
            elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
                for index, item in enumerate(value):
                    ConfigReader(item, self.faults, f"{full}[{index}].").check_unknown_keys()


def _bounds(minimum: float | None, maximum: float | None) -> str:
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    return f" {' and '.join(bounds)}" if bounds else ""


def _suggestion(full: str, asked: set[str]) -> str:
    """' (did you mean routing.max_chats?)' when an asked key of the same table is close."""
    table, _, name = full.rpartition(".")
    siblings = {key.rpartition(".")[2]: key for key in asked if key.rpartition(".")[0] == table}
    close = difflib.get_close_matches(name, list(siblings), n=1, cutoff=0.6)
    return f" (did you mean {siblings[close[0]]}?)" if close else ""
