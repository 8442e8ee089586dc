"""README's two commands are the ones CI runs, verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, re.S)


def test_readme_opens_with_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "pytest" in commands[1]


def test_ci_runs_readme_commands_verbatim_and_nothing_else():
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip()
        and not line.startswith("#")
        and not line.startswith(("set ", "cd ", "rm -rf .ci-venv", "source .ci-venv"))
    ]
    assert ci_lines == readme_commands()


def test_ci_runs_in_a_fresh_virtual_environment():
    script = (ROOT / ".ci" / "run").read_text()
    assert "rm -rf .ci-venv && python3 -m venv .ci-venv" in script
    assert script.index("source .ci-venv/bin/activate") < script.index("pip install")
