"""The files in deploy/ are checked as far as this machine allows."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "monitor.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_unit_runs_the_daemon_hardened_and_stops_gracefully() -> None:
    service = unit()["Service"]
    assert service["ExecStart"].endswith("monitor run")
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) > 30
    assert service["User"] != "root" and service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict" and "StateDirectory" in service
    assert service["Restart"] == "on-failure"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    monitor = Path(sys.executable).parent / "monitor"
    if not monitor.exists():
        pytest.skip("the monitor command is not installed in this environment")
    text = UNIT.read_text().replace("/opt/news-monitor/.venv/bin/monitor", str(monitor))
    copy = tmp_path / "news-monitor.service"
    copy.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (r.stdout + r.stderr).splitlines() if copy.name in line]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr
