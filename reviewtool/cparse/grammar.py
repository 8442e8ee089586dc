"""tree-sitter-c's grammar, loaded without the package's `__init__`.

`import tree_sitter_c` also imports `importlib.resources` (for its query files, which we do
not use), and with it `tempfile`, `shutil`, `random` and the compression modules: a few
milliseconds on every run, the pre-push hook's included. The grammar itself is the package's
extension module, `tree_sitter_c._binding`; it is loaded from its file, and registered under
its name, so a later `import tree_sitter_c` uses the same module. Anything unexpected in the
package's layout falls back to the ordinary import.
"""

from __future__ import annotations

import sys


def c_language() -> object:
    """The pointer `tree_sitter_c.language()` returns (for `tree_sitter.Language`)."""
    binding = sys.modules.get("tree_sitter_c._binding") or _load_binding()
    if binding is None:
        import tree_sitter_c  # noqa: PLC0415 - the ordinary way, when the direct one fails

        return tree_sitter_c.language()
    return binding.language()


def _load_binding() -> object | None:
    import importlib.machinery  # noqa: PLC0415 - both already loaded by the import system
    import importlib.util  # noqa: PLC0415
    import os  # noqa: PLC0415

    try:
        package = importlib.util.find_spec("tree_sitter_c")
        if package is None or not package.submodule_search_locations:
            return None
        for directory in package.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(directory, f"_binding{suffix}")
                if not os.path.isfile(path):
                    continue
                spec = importlib.util.spec_from_file_location("tree_sitter_c._binding", path)
                if spec is None or spec.loader is None:
                    return None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                sys.modules.setdefault("tree_sitter_c._binding", module)
                return module
    except (ImportError, OSError, ValueError, AttributeError):
        return None
    return None
