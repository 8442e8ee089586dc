"""Project configuration: `.reviewtool.toml` or `[tool.reviewtool]` in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.config import (
    DEFAULT_FAIL_ON,
    DEFAULT_ON_ERROR,
    Config,
    ConfigError,
    load_config,
    on_error_hint,
    path_matches,
)
from reviewtool.errors import InputError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config()
    assert (config.fail_on, config.on_error, config.source) == (
        DEFAULT_FAIL_ON,
        DEFAULT_ON_ERROR,
        None,
    )


def test_own_file_is_read_with_every_key(tmp_path: Path) -> None:
    write(tmp_path / "extra.toml", "[generation]\nname = 'extra'\n")
    write(
        tmp_path / ".reviewtool.toml",
        'fail_on = "warning"\ninclude = ["virt/kvm", "arch/*/kvm/**"]\n'
        'skip = ["arch/x86/kvm/svm/**"]\nspec = ["extra.toml"]\non_error = "block"\n',
    )
    config = load_config(tmp_path)
    assert config.fail_on == "warning"
    assert config.include == ("virt/kvm", "arch/*/kvm/**")
    assert config.skip == ("arch/x86/kvm/svm/**",)
    assert config.spec_files == (tmp_path / "extra.toml",)
    assert config.on_error == "block"
    assert config.source == tmp_path / ".reviewtool.toml"


def test_pyproject_table_is_read_when_no_own_file(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.reviewtool]\nfail_on = "info"\n',
    )
    assert load_config(tmp_path).fail_on == "info"


def test_own_file_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.reviewtool]\nfail_on = "info"\n')
    write(tmp_path / ".reviewtool.toml", 'fail_on = "warning"\n')
    assert load_config(tmp_path).fail_on == "warning"


def test_pyproject_without_table_keeps_defaults(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 90\n')
    assert load_config(tmp_path) == Config()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('fail_on = "fatal"\n', "fail_on = 'fatal': expected one of info, warning, error"),
        ('on_error = "ignore"\n', "on_error = 'ignore': expected one of warn, block"),
        ("include = [1, 2]\n", "include must be a list of non-empty strings"),
        ('failon = "error"\n', "unknown key 'failon'"),
        ('spec = ["missing.toml"]\n', "does not exist"),
        ("fail_on = \n", "not valid TOML"),
    ],
)
def test_bad_config_raises_typed_error_naming_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path / ".reviewtool.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert expected in str(info.value)
    assert str(tmp_path / ".reviewtool.toml") in str(info.value)
    assert isinstance(info.value, InputError)


def test_bad_pyproject_table_names_the_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.reviewtool]\nfail_on = "loud"\n')
    with pytest.raises(ConfigError, match=r"\[tool\.reviewtool\] fail_on"):
        load_config(tmp_path)


def test_on_error_hint_reads_block_from_an_otherwise_broken_config(tmp_path: Path) -> None:
    write(tmp_path / ".reviewtool.toml", 'fail_on = "fatal"\non_error = "block"\n')
    assert on_error_hint(tmp_path) == "block"


def test_on_error_hint_falls_back_to_warn_when_toml_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path / ".reviewtool.toml", 'on_error = "block"\nfail_on = \n')
    assert on_error_hint(tmp_path) == "warn"


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("virt/kvm/kvm_main.c", "virt/kvm", True),
        ("virt/kvmfoo/x.c", "virt/kvm", False),
        ("arch/x86/kvm/mmu/mmu.c", "arch/*/kvm/**", True),
        ("arch/x86/kvm/mmu/mmu.c", "arch/*/kvm/*.c", False),
        ("arch/x86/kvm/x86.c", "arch/*/kvm/*.c", True),
        ("arch/x86/kvm/mmu/mmu.c", "*.c", True),
        ("include/linux/kvm_host.h", "*.c", False),
        ("include/linux/kvm_host.h", "include/**/*.h", True),
        ("arch/arm64/kvm/mmu.c", "arch/[ax]*/kvm/", True),
    ],
)
def test_path_patterns(path: str, pattern: str, matches: bool) -> None:
    assert path_matches(path, pattern) is matches


def test_skip_applies_after_include() -> None:
    config = Config(include=("arch/*/kvm/**",), skip=("arch/x86/kvm/svm/**",))
    assert config.wants_path("arch/x86/kvm/mmu/mmu.c")
    assert not config.wants_path("arch/x86/kvm/svm/svm.c")
    assert not config.wants_path("virt/kvm/kvm_main.c")
