"""The spec model: API rows read from the TOML data files, one file per API generation.

A row names one function and its effect on page references, mmu_lock or the notifier sequence.
Rows live in data files so that a user can teach the checker a new API with `--spec FILE`
instead of editing Python.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from reviewtool.errors import InputError

DATA_DIR = Path(__file__).resolve().parent / "data"

# Page kinds a faulted-in pfn can be in (KVM-FACTS "States of a faulted-in pfn").
ERROR = "error"
HELD = "held"  # refcounted page, reference taken
UNHELD = "unheld"  # refcounted page followed without FOLL_GET: no reference kept
NOT_REFCOUNTED = "not_refcounted"
PAGE_KINDS = (ERROR, HELD, UNHELD, NOT_REFCOUNTED)
# When a conditional release releases (ApiRow.released_when).
RELEASE_ALWAYS, RELEASE_ON_ZERO, RELEASE_ON_ERROR, RELEASE_SOMETIMES = "", "zero", "nonzero", "some"
RELEASED_WHEN = (RELEASE_ALWAYS, RELEASE_ON_ZERO, RELEASE_ON_ERROR, RELEASE_SOMETIMES)

EFFECTS = (
    "acquire",
    "release",
    "mark",
    "lock",
    "unlock",
    "snapshot",
    "retry-check",
    "install",
    "predicate",
    "to-page",
    "get-page",
    "assert-held",
    "nonnull",
    "address",
    "keep",
)


@dataclass(frozen=True)
class ApiRow:
    """One API and its effect; unused keys keep their defaults."""

    name: str
    effect: str
    arity: int | None = None
    arg: int = 0
    source: str = ""
    # acquire
    result: str = "return"  # "return" (a pfn), "page" (a struct page, NULL on error), "arg"
    result_arg: int | None = None
    get: str = "flag"  # "always" or "flag" (FOLL_GET in the flags carrier)
    struct_arg: int | None = None
    flags_field: str = ""
    flags_arg: int | None = None
    get_flag: str = "FOLL_GET"
    guard_field: str = ""
    refcounted_field: str = ""
    refcounted_arg: int | None = None
    refcounted_type: str = "bool"  # "bool" or "page"
    refcounted_when: tuple[str, ...] = (HELD, UNHELD)
    kinds: tuple[str, ...] = (ERROR, HELD, NOT_REFCOUNTED)
    kinds_with_get: tuple[str, ...] = (ERROR, HELD, NOT_REFCOUNTED)
    kinds_without_get: tuple[str, ...] = (ERROR, UNHELD, NOT_REFCOUNTED)
    # A NULL memslot in this argument (or struct field) means an error pfn (KVM_PFN_NOSLOT).
    error_when_null_arg: int | None = None
    error_when_null_field: str = ""
    # Input field that lets not-refcounted struct pages through; without it a not-refcounted
    # result is a pfn without struct page, which the pfn helpers skip.
    struct_page_field: str = ""
    # `bool *async` out-argument: set only when the fault-in was left to async work, in which
    # case no page (and no reference) came back.
    async_arg: int | None = None
    # release / mark
    takes: str = "pfn"  # "pfn" or "page"
    dirty: bool = False
    dirty_arg: int | None = None
    unused: bool = False
    unused_arg: int | None = None
    null_safe: bool = True
    noop_kinds: tuple[str, ...] = ()
    needs_lock_when_dirty: bool = False
    # The release empties the holder it is handed (`kvm_vcpu_unmap()` clears `map->hva` and
    # returns early on an empty map): releasing the same holder again does nothing.
    empties_holder: bool = False
    # When the release happens: "" on every call; "zero" / "nonzero" only on the calls that
    # return 0 / an error (the others leave the page with the caller); "some": on some
    # calls only, for a reason a caller cannot test (the caller's own handling of the page
    # after the call is then not judged). Summaries of callees write these (summaries.py).
    released_when: str = ""
    # keep: the call keeps the page (or an address inside it) passed in `arg` - on every
    # call (""), or only on the calls that return 0 ("zero": a failed call kept nothing).
    kept_when: str = ""
    # lock / unlock
    arg_contains: str = ""
    # predicate: true when the page's kind is one of these; with `sometimes`, true only then
    # (and either way for those kinds: `is_sigpending_pfn()` is one error pfn among several)
    true_when: tuple[str, ...] = (ERROR,)
    sometimes: bool = False
    # to-page
    nonnull_when: tuple[str, ...] = (HELD, UNHELD, NOT_REFCOUNTED)

    def matches_call(self, arg_count: int) -> bool:
        """True when a call with `arg_count` arguments is this API (clashing names differ)."""
        return self.arity is None or self.arity == arg_count

    def acquire_kinds(self, with_get: bool) -> tuple[str, ...]:
        """Page kinds an acquisition can end in, with or without FOLL_GET."""
        if self.get == "always":
            return self.kinds
        return self.kinds_with_get if with_get else self.kinds_without_get


_ROW_FIELDS = {f.name: f for f in fields(ApiRow)}


@dataclass(frozen=True)
class GetRequired:
    """Rule 9 data: where FOLL_GET may be omitted only when every `needs` atom holds."""

    paths: tuple[str, ...]
    functions: tuple[str, ...]
    needs: tuple[str, ...]
    source: str = ""

    def applies(self, path: str, function: str) -> bool:
        """True when the rule covers this file or function."""
        # `arch/x86/*` also matches `linux/arch/x86/kvm/mmu/mmu.c` in a checkout.
        if any(
            fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, f"*/{pattern}")
            for pattern in self.paths
        ):
            return True
        return function in self.functions


@dataclass
class Spec:
    """One generation's rows, merged with what it includes and with user overrides."""

    name: str
    description: str = ""
    priority: int = 0
    markers: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()  # markers that rule this generation out
    rows: dict[str, list[ApiRow]] = field(default_factory=dict)
    constants: dict[str, int] = field(default_factory=dict)
    config_names: dict[str, str] = field(default_factory=dict)
    consumer_names: set[str] = field(default_factory=set)
    consumer_patterns: list[str] = field(default_factory=list)
    get_required: list[GetRequired] = field(default_factory=list)
    assume: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # [values]: names (globs) that stand for FOLL_* flags and for error pfns.
    flag_names: tuple[str, ...] = ()
    error_pfn_names: tuple[str, ...] = ()
    # [conditions] bug_if_true: macros whose true branch is a kernel bug (WARN_ON_ONCE(),
    # KVM_BUG_ON()): the walker follows the path where the condition does not hold.
    bug_if_true: tuple[str, ...] = ()
    # [companions]: files compiled as part of another one (glob -> including files, relative
    # to the tree root the glob's own path starts at).
    companions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def is_flag(self, name: str) -> bool:
        """True when an identifier names a FOLL_* style flag."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.flag_names)

    def is_error_pfn(self, name: str) -> bool:
        """True when an identifier names an error pfn constant (KVM_PFN_ERR_*)."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.error_pfn_names)

    def row(self, name: str, arg_count: int) -> ApiRow | None:
        """The row for a call of `name` with `arg_count` arguments, if any."""
        for row in self.rows.get(name, ()):
            if row.matches_call(arg_count):
                return row
        return None

    def rows_with(self, effect: str) -> list[ApiRow]:
        """Every row with this effect."""
        return [row for rows in self.rows.values() for row in rows if row.effect == effect]

    def is_consumer(self, function: str) -> bool:
        """True for fault handlers, which must release every reference they hold."""
        if function in self.consumer_names:
            return True
        return any(fnmatch.fnmatch(function, pattern) for pattern in self.consumer_patterns)

    def detects(self, text: str) -> bool:
        """True when the code uses this generation's markers.

        A marker is a regular expression, or `call:NAME/ARITY` for a call with that many
        arguments (x86 has its own two-argument `__kvm_faultin_pfn`).
        """
        if any(re.search(marker, text) for marker in self.unless):
            return False
        for marker in self.markers:
            if marker.startswith("call:"):
                name, _, arity = marker[5:].partition("/")
                if any(count == int(arity) for count in _call_arities(text, name)):
                    return True
            elif re.search(marker, text):
                return True
        return False

    def add_row(self, row: ApiRow) -> None:
        """Add a row, replacing one with the same name and arity."""
        same = [r for r in self.rows.get(row.name, []) if r.arity != row.arity]
        self.rows[row.name] = [row, *same] if row.arity is not None else [*same, row]

    def merge(self, other: Spec) -> None:
        """Take every row and table of `other`, its rows winning."""
        for rows in other.rows.values():
            for row in rows:
                self.add_row(row)
        self.constants.update(other.constants)
        self.config_names.update(other.config_names)
        self.consumer_names |= other.consumer_names
        self.consumer_patterns += [
            p for p in other.consumer_patterns if p not in self.consumer_patterns
        ]
        self.get_required += other.get_required
        self.assume.update(other.assume)
        self.flag_names = _union(self.flag_names, other.flag_names)
        self.error_pfn_names = _union(self.error_pfn_names, other.error_pfn_names)
        self.bug_if_true = _union(self.bug_if_true, other.bug_if_true)
        self.companions.update(other.companions)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(item for item in second if item not in first)


def call_arguments(text: str, name: str) -> list[tuple[list[str], bool]]:
    """The argument texts of every call of `name` in `text` (a cheap scan, not a parse), each
    with whether the call closes within `text`."""
    if name not in text:
        return []  # the usual case (every API row against every line): no regex for it
    out = []
    for match in re.finditer(rf"(?<![\w>.]){re.escape(name)}\s*\(", text):
        depth, args, current, closed = 1, [], [], False
        for char in text[match.end() :]:
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth == 0:
                    closed = True
                    break
            if char == "," and depth == 1:
                args.append("".join(current).strip())
                current = []
            else:
                current.append(char)
        args.append("".join(current).strip())
        out.append((args, closed))
    return out


def _call_arities(text: str, name: str) -> list[int]:
    """Argument counts of every call of `name` in `text`."""
    return [len(args) if any(args) else 0 for args, _ in call_arguments(text, name)]


def _row(data: dict, origin: str) -> ApiRow:
    unknown = set(data) - set(_ROW_FIELDS)
    if unknown:
        raise InputError(f"{origin}: unknown key(s) in [[api]] row: {', '.join(sorted(unknown))}")
    if "name" not in data or "effect" not in data:
        raise InputError(f"{origin}: every [[api]] row needs `name` and `effect`")
    if data["effect"] not in EFFECTS:
        raise InputError(f"{origin}: row {data['name']}: unknown effect {data['effect']!r}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    if values.get("kept_when", "") not in (RELEASE_ALWAYS, RELEASE_ON_ZERO):
        raise InputError(f'{origin}: row {data["name"]}: kept_when must be "zero" or absent')
    if values.get("released_when", "") not in RELEASED_WHEN:
        raise InputError(
            f"{origin}: row {data['name']}: released_when must be one of {RELEASED_WHEN[1:]}"
        )
    for key in (
        "kinds",
        "kinds_with_get",
        "kinds_without_get",
        "noop_kinds",
        "refcounted_when",
        "true_when",
        "nonnull_when",
    ):
        bad = [k for k in values.get(key, ()) if k not in PAGE_KINDS]
        if bad:
            raise InputError(f"{origin}: row {data['name']}: unknown page kind(s) {bad}")
    return ApiRow(**values)


_TOML_CACHE: dict[tuple[Path, int, int], dict] = {}


def _toml(path: Path) -> dict:
    """A spec file's tables, read once per version of the file (generations share includes)."""
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    found = _TOML_CACHE.get(key)
    if found is None:
        import tomllib  # noqa: PLC0415 - see _load_file

        found = _TOML_CACHE[key] = tomllib.loads(path.read_text(encoding="utf-8"))
    return found


def _load_file(path: Path, seen: tuple[Path, ...] = ()) -> Spec:
    # Imported here: the pre-push hook reads the spec set from its cache (spec_cache.py).
    import tomllib  # noqa: PLC0415

    if path in seen:
        raise InputError(f"spec include cycle through {path}")
    try:
        data = _toml(path)
    except OSError as exc:
        raise InputError(f"cannot read spec file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"spec file {path} is not valid TOML: {exc}") from exc
    gen = data.get("generation", {})
    spec = Spec(name=gen.get("name", path.stem))
    for include in gen.get("include", []):
        spec.merge(_load_file(path.parent / include, (*seen, path)))
    own = Spec(
        name=spec.name,
        description=gen.get("description", ""),
        priority=int(gen.get("priority", 0)),
        markers=tuple(gen.get("markers", ())),
        unless=tuple(gen.get("unless", ())),
        constants={k: int(v) for k, v in data.get("constants", {}).items()},
        config_names=dict(data.get("config", {})),
        assume={k: tuple(v) for k, v in data.get("assume", {}).items()},
        flag_names=tuple(data.get("values", {}).get("flags", ())),
        error_pfn_names=tuple(data.get("values", {}).get("error_pfns", ())),
        bug_if_true=tuple(data.get("conditions", {}).get("bug_if_true", ())),
        companions={k: tuple(v) for k, v in data.get("companions", {}).items()},
        consumer_names=set(data.get("consumers", {}).get("names", [])),
        consumer_patterns=list(data.get("consumers", {}).get("patterns", [])),
        get_required=[
            GetRequired(
                paths=tuple(item.get("paths", ())),
                functions=tuple(item.get("functions", ())),
                needs=tuple(item.get("needs", ())),
                source=item.get("source", ""),
            )
            for item in data.get("get_required", [])
        ],
    )
    for item in data.get("api", []):
        own.add_row(_row(item, str(path)))
    spec.merge(own)
    spec.description, spec.priority = own.description, own.priority
    spec.markers, spec.unless = own.markers, own.unless
    return spec


def builtin_generations() -> list[Spec]:
    """Every shipped generation, newest (highest priority) first."""
    specs = [
        _load_file(path) for path in sorted(DATA_DIR.glob("*.toml")) if path.name != "common.toml"
    ]
    return sorted(specs, key=lambda s: -s.priority)


def load_overrides(path: str | Path) -> Spec:
    """Read a user spec file (`--spec FILE`): rows that add to or override the built-in ones."""
    return _load_file(Path(path))


class SpecSet:
    """The built-in generations plus user overrides; picks the generation a file uses."""

    def __init__(self, overrides: list[Spec] | None = None) -> None:
        self.generations = builtin_generations()
        self.overrides = overrides or []
        for extra in self.overrides:
            target = next((g for g in self.generations if g.name == extra.name), None)
            if target is not None:
                target.merge(extra)
            elif extra.markers:
                self.generations.append(extra)
                self.generations.sort(key=lambda s: -s.priority)
            else:
                for generation in self.generations:
                    generation.merge(extra)

    def generation(self, name: str) -> Spec:
        """The generation called `name`."""
        for generation in self.generations:
            if generation.name == name:
                return generation
        known = ", ".join(g.name for g in self.generations)
        raise InputError(f"unknown spec generation {name!r} (known: {known})")

    def detect(self, text: str) -> Spec:
        """The newest generation whose markers the code uses; the oldest one otherwise."""
        for generation in self.generations:
            if generation.markers and generation.detects(text):
                return generation
        return self.generations[-1]


def detect_generation(spec: Spec | SpecSet, text: str) -> Spec:
    """`spec.detect(text)` (a lone Spec is its own answer), skipping each generation whose
    markers cannot be in the text: a marker's literal core missing from the text settles it
    at `in` speed (scanning a 5,000-line file for every generation's markers was a fifth of
    the pre-push hook's time), and `Spec.detects` still decides the rest."""
    if isinstance(spec, Spec):
        return spec
    for generation in spec.generations:
        markers = generation.markers
        if markers and _may_match(markers, text) and generation.detects(text):
            return generation
    return spec.generations[-1]


def _may_match(markers: tuple[str, ...], text: str) -> bool:
    for marker in markers:
        core = _literal_core(marker)
        if core is None or core in text:
            return True
    return False


@functools.lru_cache(maxsize=64)
def _literal_core(pattern: str) -> str | None:
    """A string every match of `pattern` contains, when one is easy to read off."""
    if pattern.startswith("call:"):  # `call:NAME/ARITY`: a call of NAME
        return pattern[5:].partition("/")[0] or None
    plain = pattern.replace(r"\b", "")
    plain = re.sub(r"\\([.*+?()\[\]{}|^$\\])", r"\1", plain)
    stripped = re.sub(r"\\[.*+?()\[\]{}|^$\\]", "", pattern.replace(r"\b", ""))
    if re.search(r"[.*+?()\[\]{}|^$\\]", stripped):
        return None
    return plain or None


def companions_of(path: str, spec: Spec | None = None) -> list[str]:
    """Files that compile `path` as part of themselves ([companions] of the spec data):
    `arch/x86/kvm/mmu/paging_tmpl.h` -> `arch/x86/kvm/mmu/mmu.c`."""
    table = (spec or common_spec()).companions
    return [
        companion
        for pattern, found in table.items()
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, f"*/{pattern}")
        for companion in found
    ]


def companions_beside(path: str | Path, spec: Spec | None = None) -> list[Path]:
    """The files on disk that compile `path` as part of themselves, in the same tree: the
    tree's root is where the matching [companions] pattern starts in the path."""
    parts = Path(path).resolve().as_posix().split("/")
    found: list[Path] = []
    for pattern, companions in (spec or common_spec()).companions.items():
        depth = pattern.count("/") + 1
        if len(parts) <= depth or not fnmatch.fnmatch("/".join(parts[-depth:]), pattern):
            continue
        root = Path("/".join(parts[:-depth]) or "/")
        found += [root / c for c in companions if (root / c).is_file()]
    return found


_COMMON: Spec | None = None


def common_spec() -> Spec:
    """The rows and tables every generation shares (common.toml), read once."""
    global _COMMON
    if _COMMON is None:
        _COMMON = _load_file(DATA_DIR / "common.toml")
    return _COMMON


def load_specs(spec_files: list[str] | None = None) -> SpecSet:
    """Built-in generations with every `--spec FILE` applied."""
    return SpecSet([load_overrides(path) for path in spec_files or []])


_DEFAULT_SPECS: SpecSet | None = None
_BLANK_RUN_RE = re.compile(r"\n{2,}")


def default_specs() -> SpecSet:
    """The built-in spec set, loaded once per process."""
    global _DEFAULT_SPECS
    if _DEFAULT_SPECS is None:
        _DEFAULT_SPECS = load_specs()
    return _DEFAULT_SPECS


def generation_of(text: str, spec: Spec | SpecSet | None) -> Spec:
    """The spec generation a C text uses (the built-in spec set when none is given)."""
    if isinstance(spec, Spec):
        return spec
    # Markers are words and calls, never a blank line: searching an image padded to its real
    # line numbers without its padding finds the same and skips thousands of empty lines.
    return detect_generation(spec or default_specs(), _BLANK_RUN_RE.sub("\n", text))


def tree_file(root: str | Path, relpath: str) -> tuple[str, dict[str, str]]:
    """The text of one file of a source tree, and of the files that compile it as part of
    themselves ([companions]: paging_tmpl.h -> mmu.c), by path relative to the tree."""
    base = Path(root)
    text = (base / relpath).read_text(encoding="utf-8", errors="replace")
    context = {}
    for companion in companions_of(relpath):
        other = base / companion
        if other.is_file():
            context[companion] = other.read_text(encoding="utf-8", errors="replace")
    return text, context
