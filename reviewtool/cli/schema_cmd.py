"""`reviewtool schema series|diff|migrate|check|report`: the JSON Schema of a `--json` document."""

from __future__ import annotations

import argparse

from reviewtool.cli.common import print_json
from reviewtool.schemas import DOCUMENTS, schema


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `schema` subcommand."""
    parser = sub.add_parser(
        "schema",
        help="print the JSON Schema of a --json document",
        description="Print the JSON Schema (draft 2020-12) that a command's --json output follows.",
    )
    parser.add_argument("document", choices=DOCUMENTS, help="which document")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the schema; 0."""
    print_json(schema(args.document))
    return 0
