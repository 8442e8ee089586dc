"""Package names imported from their modules on first use (PEP 562), so that a command pays
only for the modules it reads: `reviewtool diff` is measured against git, the pre-push hook
against a push."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Callable


def lazy_exports(
    package: str, homes: dict[str, str], namespace: dict[str, object]
) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: each name of `homes` is imported from its module
    (absolute, or relative to the package: `.flags`) when first read, then kept in the
    package's `namespace` so the next read is an ordinary one."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        namespace[name] = value
        return value

    return __getattr__
