"""Grafana in deploy/: provisioned by docker-compose.yml with its Prometheus, and well-formed dashboards.

Grafana cannot run here (no Docker): these tests follow the compose file's bind mounts to the
provisioning files and the dashboards, and check that they refer to each other and to the Prometheus
service. That every metric a dashboard queries is one the server or the gateway exports (names, labels
and label values) is checked against real ones in tests/service/test_dashboard_metrics.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to check deploy/ (a dev dependency)")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(DEPLOY / "docker-compose.yml")


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path → the folder or file of deploy/ bound there (bind mounts only)."""
    out = {}
    for volume in service.get("volumes") or []:
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            out[target] = (DEPLOY / source).resolve()
    return out


def in_container(path: str, binds: dict[str, Path]) -> Path:
    """The file of deploy/ a container path shows, through the service's bind mounts."""
    for target, source in binds.items():
        if path == target or path.startswith(target + "/"):
            return source / path[len(target) :].lstrip("/")
    raise AssertionError(f"{path} is not under any bind mount: {sorted(binds)}")


def dashboards() -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(DEPLOY.glob("grafana/dashboards/*.json"))
    ]


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out += panel.get("panels", [])  # a collapsed row keeps its panels inside it
    return out


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards(compose):
    services = compose["services"]
    grafana = services["grafana"]
    assert grafana["image"].startswith("grafana/grafana")
    assert "prometheus" in grafana["depends_on"]
    binds = mounts(grafana)
    provisioning = in_container("/etc/grafana/provisioning", binds)
    (datasource,) = [
        d for f in sorted(provisioning.glob("datasources/*.yml")) for d in load(f)["datasources"]
    ]
    assert datasource["type"] == "prometheus" and datasource["isDefault"]
    prometheus_port = services["prometheus"]["ports"][0].split(":")[1]
    assert datasource["url"] == f"http://prometheus:{prometheus_port}"
    scrape = load(DEPLOY / "prometheus.yml")["global"]["scrape_interval"]
    assert datasource["jsonData"]["timeInterval"] == scrape
    (provider,) = [p for f in sorted(provisioning.glob("dashboards/*.yml")) for p in load(f)["providers"]]
    assert provider["type"] == "file"
    folder = in_container(provider["options"]["path"], binds)
    assert folder == DEPLOY / "grafana" / "dashboards" and list(folder.glob("*.json"))
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert in_container(home, binds).is_file()
    assert grafana["ports"] == ["3000:3000"]


def test_the_dashboards_are_well_formed():
    datasources = {
        d["uid"]
        for f in sorted(DEPLOY.glob("grafana/provisioning/datasources/*.yml"))
        for d in load(f)["datasources"]
    }
    found = dashboards()
    assert found, "no dashboard in deploy/grafana/dashboards/"
    assert len({d["uid"] for d in found}) == len(found)
    for dashboard in found:
        every = panels(dashboard)
        assert len({p["id"] for p in every}) == len(every), "panel ids repeat"
        for variable in dashboard["templating"]["list"]:
            assert variable["datasource"]["uid"] in datasources
        for panel in every:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
            if panel["type"] == "row":
                continue
            assert panel["title"] and panel["description"], panel["id"]
            assert panel["datasource"]["uid"] in datasources, panel["title"]
            targets = panel["targets"]
            assert targets and all(t["expr"].strip() for t in targets), panel["title"]
            assert len({t["refId"] for t in targets}) == len(targets), panel["title"]
            assert all(t["datasource"]["uid"] in datasources for t in targets), panel["title"]
