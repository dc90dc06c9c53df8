"""scripts/restarting.sh under honcho, as make run starts deploy/Procfile.dev: a process that
dies comes back, the others keep running, and honcho's stop still stops everything."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.helpers import DEPLOY, procfile_commands
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
RESTARTING = ROOT / "scripts" / "restarting.sh"


def test_every_development_process_runs_under_the_restart_loop() -> None:
    for name, raw in procfile_commands(DEPLOY / "Procfile.dev").items():
        assert "scripts/restarting.sh " in (raw.shell or ""), name


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _sleepers(pid: int, marker: str) -> list[int]:
    """Descendants of ``pid`` running ``sleep <marker>``."""
    found = []
    for child in _descendants(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if cmdline[:2] == [b"sleep", marker.encode()]:
            found.append(child)
    return found


@pytest.mark.slow  # starts honcho
def test_a_killed_process_comes_back_and_the_others_keep_running(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"crashy: {RESTARTING} sleep 1001\nsteady: {RESTARTING} sleep 1002\n")
    honcho = Path(sys.executable).parent / "honcho"
    proc = subprocess.Popen(
        [str(honcho), "-f", str(procfile), "start"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        first = wait_for(lambda: _sleepers(proc.pid, "1001"), timeout=10, message="crashy started")[0]
        steady = wait_for(lambda: _sleepers(proc.pid, "1002"), timeout=10, message="steady started")[0]

        os.kill(first, signal.SIGKILL)  # a crash: no clean exit

        again = wait_for(
            lambda: [p for p in _sleepers(proc.pid, "1001") if p != first], timeout=10, message="crashy back"
        )
        assert again
        assert proc.poll() is None, "honcho stopped the stack"
        assert _sleepers(proc.pid, "1002") == [steady]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert b"exited with status" in output
    time.sleep(0.2)
    assert not _sleepers(proc.pid, "1001")


def test_a_stop_signal_stops_the_command_and_ends_the_loop(tmp_path: Path) -> None:
    proc = subprocess.Popen([str(RESTARTING), "sleep", "1003"], start_new_session=True)
    child = wait_for(lambda: _sleepers(proc.pid, "1003"), timeout=10, message="started")[0]

    os.kill(proc.pid, signal.SIGTERM)

    assert proc.wait(timeout=10) == 0
    wait_for(
        lambda: not Path(f"/proc/{child}").exists() or _zombie(child), timeout=5, message="child stopped"
    )


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True
