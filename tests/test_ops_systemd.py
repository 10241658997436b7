"""The systemd unit in docs/deploy is valid and sandboxed, as systemd itself judges it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "guidebot.service"
SHIPPED_EXEC = "/opt/guidebot/.venv/bin/guidebot"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed on this machine"
)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit, with ExecStart pointing at this checkout's guidebot (verify checks that it exists)."""
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={SHIPPED_EXEC} run" in text
    copy = tmp_path / "guidebot.service"
    copy.write_text(text.replace(SHIPPED_EXEC, str(Path(sys.executable).parent / "guidebot")), encoding="utf-8")
    return copy


def test_systemd_analyze_verify_finds_nothing_wrong(unit: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    about_the_unit = [line for line in result.stderr.splitlines() if "guidebot.service" in line]
    assert result.returncode == 0 and about_the_unit == [], result.stderr


def test_the_sandbox_rates_ok(unit: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True, text=True, check=False
    )
    if "--offline" in result.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline (systemd 250 or newer can)")
    found = re.search(r"Overall exposure level for guidebot\.service: ([\d.]+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0, "systemd rates 0-2 as OK; the sandbox has been loosened"
