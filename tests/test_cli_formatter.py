"""Building the CLI's parser for a hook run imports no `shutil` (and none of the compression
modules it brings): the pre-push hook starts on every push."""

from __future__ import annotations

import subprocess
import sys


def test_a_hook_run_imports_no_shutil(tmp_path) -> None:
    probe = (
        "import sys; from reviewtool.cli import build_parser; "
        "build_parser(['hook', 'run']).parse_args(['hook', 'run', 'origin']); "
        "print('shutil' in sys.modules, 'bz2' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.split() == ["False", "False"]
