"""``python -m golive <command> [options]``: see ``python -m golive --help``.

Each command is one entry of :data:`COMMANDS`: its help line, a function adding its options, and
the function running it (an exit code back). A new command (``doctor``) is one more entry.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from golive import consent, doctor

__all__ = ("COMMANDS", "Command", "main")


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: ``add_arguments(parser)`` declares its options, ``run(args)`` is its exit code."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "consent": Command(help=consent.HELP, add_arguments=consent.add_arguments, run=consent.run),
    "doctor": Command(help=doctor.HELP, add_arguments=doctor.add_arguments, run=doctor.run),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golive", description="Offboard: going live.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, command in COMMANDS.items():
        command.add_arguments(commands.add_parser(name, help=command.help, description=command.help))
    args = parser.parse_args(argv)
    # Warnings and errors of the libraries only: MSAL and the Azure SDK log request details at INFO.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
