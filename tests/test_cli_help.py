"""`reviewtool --help`: the CLI's own help formatter reads the terminal width as argparse's
stock one does (it only avoids importing shutil), so help text is laid out the same."""

from __future__ import annotations

import argparse

import pytest

from reviewtool.cli import COMMAND_MODULES, _command_name, build_parser


def _help_texts(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The parser's help and each subcommand's, keyed by command ('' for the top level)."""
    texts = {"": parser.format_help()}
    for action in parser._subparsers._group_actions:  # argparse keeps subparsers only here
        for name, sub in action.choices.items():
            texts[name] = sub.format_help()
    return texts


def _with_stock_formatter(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.HelpFormatter
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.formatter_class = argparse.HelpFormatter


@pytest.mark.parametrize("columns", ["40", "57", "100", "", "junk"])
def test_help_is_laid_out_as_argparse_lays_it_out(monkeypatch, columns) -> None:
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    ours = build_parser()
    stock = build_parser()
    _with_stock_formatter(stock)
    assert set(_help_texts(ours)) == {"", *map(_command_name, COMMAND_MODULES)}
    assert _help_texts(ours) == _help_texts(stock)
    if columns == "40":
        assert max(len(line) for line in ours.format_help().splitlines()) <= 40
