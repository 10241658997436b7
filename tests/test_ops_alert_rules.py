"""The example Prometheus rules in docs/deploy read metrics the bot really exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.clock import FakeClock
from bot.ops.metrics import database_registry, exposition, read_engine

RULES = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "prometheus-alerts.yml"


def rules() -> list[dict[str, object]]:
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def test_every_metric_a_rule_reads_is_exposed(sqlite_url: str, clock: FakeClock) -> None:
    engine = read_engine(sqlite_url)
    try:
        exposed = exposition(database_registry(engine, clock.now)).decode()
    finally:
        engine.dispose()
    names = {name for rule in rules() for name in re.findall(r"guidebot_\w+", str(rule["expr"]))}
    assert names, "the rules read guidebot's metrics"
    missing = [name for name in sorted(names) if not re.search(rf"^(# TYPE )?{name}\b", exposed, re.MULTILINE)]
    assert missing == []


def test_an_urgent_alert_unacknowledged_for_30_minutes_pages() -> None:
    urgent = [r for r in rules() if "guidebot_alert_unacknowledged_oldest_seconds" in str(r["expr"])]
    assert len(urgent) == 1
    assert str(urgent[0]["expr"]).endswith("> 1800") and urgent[0]["labels"] == {"severity": "page"}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Prometheus) is not installed here")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
