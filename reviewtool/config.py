"""Project configuration: `.reviewtool.toml`, or `[tool.reviewtool]` in pyproject.toml.

Keys (all optional):

    fail_on = "error"        # block for findings at or above this severity
    include = ["virt/kvm/**", "arch/*/kvm/**"]   # only check these paths (globs)
    skip = ["tools/**"]      # never check these paths (globs), applied after include
    spec = ["kvm/extra-api.toml"]                # extra spec files, relative to the config
    on_error = "warn"        # "warn": an internal error lets the push through; "block": refuse

The file is read with the stdlib `tomllib`; every mistake is a `ConfigError` that names the
file, the key and what was expected, so a typo never silently turns a check off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reviewtool.analyses.findings import SEVERITIES
from reviewtool.errors import InputError

CONFIG_FILE = ".reviewtool.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "reviewtool")

DEFAULT_FAIL_ON = "error"
ON_ERROR_CHOICES = ("warn", "block")
DEFAULT_ON_ERROR = "warn"

KNOWN_KEYS = ("fail_on", "include", "skip", "spec", "on_error")

# Glob characters; a pattern without any of them names a file or a directory prefix.
_GLOB_CHARS = re.compile(r"[*?\[]")


class ConfigError(InputError):
    """A configuration file that cannot be read or holds a value reviewtool cannot use."""


@dataclass(frozen=True)
class Config:
    """The settings of one project; defaults apply when no file is there."""

    fail_on: str = DEFAULT_FAIL_ON
    include: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    spec_files: tuple[Path, ...] = ()
    on_error: str = DEFAULT_ON_ERROR
    source: Path | None = None

    def wants_path(self, path: str) -> bool:
        """True when `path` (repository-relative, '/'-separated) is in scope for checks."""
        if self.include and not any(path_matches(path, pat) for pat in self.include):
            return False
        return not any(path_matches(path, pat) for pat in self.skip)


def find_config_file(root: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The config file under `root` and the table inside it, or None when there is none.

    `.reviewtool.toml` wins over pyproject.toml, and a pyproject.toml without a
    `[tool.reviewtool]` table does not count, so a Python project keeps its defaults.
    """
    own = root / CONFIG_FILE
    if own.is_file():
        return own, ()
    pyproject = root / PYPROJECT_FILE
    if pyproject.is_file():
        data = _read_toml(pyproject)
        if _table(data, PYPROJECT_TABLE) is not None:
            return pyproject, PYPROJECT_TABLE
    return None


def load_config(root: Path) -> Config:
    """Read the configuration of the project whose top directory is `root`."""
    found = find_config_file(Path(root))
    if found is None:
        return Config()
    path, table_path = found
    table = _table(_read_toml(path), table_path)
    if table is None:  # pragma: no cover - find_config_file checked it
        return Config()
    where = f"[{'.'.join(table_path)}] " if table_path else ""
    return parse_config(table, path, where)


def parse_config(table: dict, path: Path, where: str = "") -> Config:
    """Validate one configuration table read from `path`."""
    label = f"{path}: {where}"
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{label}unknown key {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})")
    fail_on = _choice(table, "fail_on", SEVERITIES, DEFAULT_FAIL_ON, label)
    on_error = _choice(table, "on_error", ON_ERROR_CHOICES, DEFAULT_ON_ERROR, label)
    include = _string_list(table, "include", label)
    skip = _string_list(table, "skip", label)
    specs = tuple((path.parent / name) for name in _string_list(table, "spec", label))
    for spec in specs:
        if not spec.is_file():
            raise ConfigError(f"{label}spec file {str(spec)!r} does not exist")
    return Config(
        fail_on=fail_on,
        include=include,
        skip=skip,
        spec_files=specs,
        on_error=on_error,
        source=path,
    )


def on_error_hint(root: Path) -> str:
    """The `on_error` setting as far as it can be read from a config that failed to load.

    A config that is wrong elsewhere may still say `on_error = "block"`; honour it rather
    than letting a broken file quietly disable the hook.
    """
    try:
        found = find_config_file(Path(root))
        if found is None:
            return DEFAULT_ON_ERROR
        table = _table(_read_toml(found[0]), found[1]) or {}
    except ConfigError:
        return DEFAULT_ON_ERROR
    value = table.get("on_error", DEFAULT_ON_ERROR)
    return value if value in ON_ERROR_CHOICES else DEFAULT_ON_ERROR


def path_matches(path: str, pattern: str) -> bool:
    """Match a repository path against a glob: `*` stays in one directory, `**` spans any.

    A pattern without glob characters matches that file or everything below that directory,
    so `include = ["virt/kvm"]` means what it says; a glob without a '/' (`*.h`) matches at
    any depth, as in .gitignore.
    """
    pattern = pattern.strip().lstrip("/")
    if not _GLOB_CHARS.search(pattern):
        prefix = pattern.rstrip("/")
        return path == prefix or path.startswith(prefix + "/")
    if "/" not in pattern:
        pattern = "**/" + pattern
    return _glob_regex(pattern).fullmatch(path) is not None


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    # A directory pattern ("arch/*/kvm/") covers what lies below it.
    suffix = "(?:/.*)?" if not pattern.endswith("**") else ""
    return re.compile("".join(out).rstrip("/") + suffix)


def _read_toml(path: Path) -> dict:
    # Imported here: most repositories have no config file, and the hook starts on every push.
    import tomllib  # noqa: PLC0415

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _table(data: dict, table_path: tuple[str, ...]) -> dict | None:
    for name in table_path:
        data = data.get(name)
        if not isinstance(data, dict):
            return None
    return data


def _choice(table: dict, key: str, choices: tuple[str, ...], default: str, label: str) -> str:
    value = table.get(key, default)
    if value not in choices:
        raise ConfigError(f"{label}{key} = {value!r}: expected one of {', '.join(choices)}")
    return value


def _string_list(table: dict, key: str, label: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{label}{key} must be a list of non-empty strings, got {value!r}")
    return tuple(value)
