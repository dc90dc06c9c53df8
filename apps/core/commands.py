"""A base for operator commands: bad input ends as one ``error: ...`` line, never a traceback.

Django prints ``CommandError: ...`` for a failed command and a usage block for bad
arguments; an operator (or a script reading stderr) gets one line instead, and a
non-zero exit: 2 for arguments argparse refuses, the error's own code otherwise (1).
An ApplicationError from a service (the same one the admin and the API show) and Redis
or the database being unreachable end the same way; ``--traceback`` shows the trace.
"""

import sys
from typing import Any, NoReturn

import redis
from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.db import DatabaseError, connections

from .exceptions import ApplicationError
from .operator_log import Actor, actor_for_os


class OperatorCommand(BaseCommand):
    @property
    def actor(self) -> Actor:
        """Who the operator log names for changes made by this command: the OS user."""
        return actor_for_os()

    def execute(self, *args: Any, **options: Any) -> str | None:
        # call_command (tests, other commands) sees the same CommandError as the shell does.
        try:
            return super().execute(*args, **options)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        except redis.RedisError as exc:
            raise CommandError(f"Redis unavailable: {exc}") from exc
        except DatabaseError as exc:
            raise CommandError(f"database error: {exc}".strip()) from exc

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
        # One line: a multi-line message (a database error's detail) is joined.
        self.stderr.write("error: " + " ".join(message.split()))
        sys.exit(returncode)
