"""deploy/systemd/: the units, parsed and, where installed, verified by systemd-analyze."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import celeryconfig
from tests.deploy.helpers import LONGEST_HOUSEKEEPING_TASK, SYSTEMD, unit_paths, unit_values


@pytest.mark.parametrize("path", unit_paths(), ids=lambda p: p.name)
def test_systemd_unit_parses(path: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(), source=str(path))
    assert parser.has_section("Unit")
    if path.suffix == ".target":
        assert parser.has_section("Install")
        return
    assert parser.has_section("Service")
    service = parser["Service"]
    # The oneshot migrate unit is pulled in by the web unit, not enabled on its own.
    assert parser.has_section("Install") or service.get("Type") == "oneshot"
    assert unit_values(path, "Service", "ExecStart"), f"{path.name}: no ExecStart"
    assert service["User"] == "smsbridge"
    assert service["WorkingDirectory"] == "/opt/smsbridge"
    assert service["EnvironmentFile"] == "/etc/smsbridge/env"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["ProtectSystem"] == "strict" and "/opt/smsbridge/var" in service["ReadWritePaths"]
    if service.get("Type") != "oneshot":
        assert service["Restart"] == "always"
        assert "smsbridge.target" in parser["Unit"]["PartOf"]
    for line in unit_values(path, "Service", "ExecStart"):
        program = re.sub(r"^[-@:+!]+", "", line).split()[0]
        if program.startswith("/opt/smsbridge/.venv/bin/"):
            # The program must be one that the requirements install next to this Python.
            bin_dir = str(Path(sys.executable).parent)
            assert shutil.which(Path(program).name, path=bin_dir), f"{path.name}: {program}"


def test_systemd_web_waits_for_migrations_and_worker_stops_warm() -> None:
    web = SYSTEMD / "smsbridge-web.service"
    assert "smsbridge-migrate.service" in " ".join(unit_values(web, "Unit", "Requires"))
    assert "smsbridge-migrate.service" in " ".join(unit_values(web, "Unit", "After"))
    migrate = SYSTEMD / "smsbridge-migrate.service"
    assert unit_values(migrate, "Service", "Type") == ["oneshot"]
    for name in ("smsbridge-worker.service", "smsbridge-callbacks.service", "smsbridge-housekeeping.service"):
        worker = SYSTEMD / name
        assert unit_values(worker, "Service", "KillSignal") == ["SIGTERM"]
        assert unit_values(worker, "Service", "KillMode") == ["mixed"], "SIGTERM to the main process only"
        assert int(unit_values(worker, "Service", "TimeoutStopSec")[0]) > celeryconfig.task_time_limit
    housekeeping = SYSTEMD / "smsbridge-housekeeping.service"
    assert int(unit_values(housekeeping, "Service", "TimeoutStopSec")[0]) > LONGEST_HOUSEKEEPING_TASK


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    for path in unit_paths():
        shutil.copy(path, tmp_path / path.name)
    result = subprocess.run(
        ["systemd-analyze", "verify", *[str(tmp_path / p.name) for p in unit_paths()]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The programs live on the target machines, not here.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not re.search(r"Command /opt/smsbridge/\S+ is not executable", line)
    ]
    assert not problems, "\n".join(problems)
