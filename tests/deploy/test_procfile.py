"""deploy/Procfile and deploy/Procfile.dev."""

from pathlib import Path

import pytest

from tests.deploy.helpers import PROCESSES, PROCFILES, procfile_commands, rel


@pytest.mark.parametrize("path", PROCFILES, ids=rel)
def test_procfile_defines_the_processes(path: Path) -> None:
    assert set(procfile_commands(path)) >= PROCESSES | {"callbacks", "housekeeping"}
