"""The alert rules and the dashboard under deploy/ name only metrics the shop serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.ports import free_port

from .conftest import AppFactory

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
_NAME = re.compile(r"\bshop_[a-z_]+\b")
_HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")


def _expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())
    alerts = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    panels = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert alerts and panels
    return alerts + panels


def test_every_metric_the_alerts_and_dashboard_use_is_served(make_lite: AppFactory) -> None:
    # A Redis that refuses connections: its gauge is served (as 0), like every other.
    api = make_lite(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    text = api.http.get("/metrics").data.decode()
    served = set(re.findall(r"^# TYPE (\S+)", text, re.M)) | set(
        re.findall(r"^(shop_[a-z_]+)", text, re.M))

    used = {name for expression in _expressions() for name in _NAME.findall(expression)}
    missing = {name for name in used if name not in served
               and not (name.endswith(_HISTOGRAM_PARTS)
                        and name.rsplit("_", 1)[0] in served)
               and name.removesuffix("_total") not in served}

    assert len(used) >= 10
    assert not missing, missing
