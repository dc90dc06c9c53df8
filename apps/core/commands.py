"""A base for operator commands: bad input ends as one ``error: ...`` line, never a traceback.

Django prints ``CommandError: ...`` for a failed command and a usage block for bad
arguments; an operator (or a script reading stderr) gets one line instead, and a
non-zero exit: 2 for arguments argparse refuses, the error's own code otherwise.
"""

import sys
from typing import NoReturn

from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.db import connections


class OperatorCommand(BaseCommand):
    def run_from_argv(self, argv: list[str]) -> None:
        # Not yet "called from the command line": argparse errors raise CommandError
        # (Django's parser does so then) instead of printing usage and exiting.
        parser = self.create_parser(argv[0], argv[1])
        try:
            options = parser.parse_args(argv[2:])
        except CommandError as exc:
            self._fail(str(exc).removeprefix("Error: "), 2)
        self._called_from_command_line = True
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        handle_default_options(options)
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            self._fail(str(exc), exc.returncode)
        finally:
            connections.close_all()

    def _fail(self, message: str, returncode: int) -> NoReturn:
        self.stderr.write(f"error: {message}")
        sys.exit(returncode)
