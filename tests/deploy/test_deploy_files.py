"""deploy/: the HAProxy config, the compose stack, the Grafana dashboard and the alert
rules, linted (no Docker engine here: the compose file is read and checked as data)."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from entrypoints.cli.server import GRACEFUL_SECONDS
from entrypoints.container import LOG_DRAIN_SECONDS
from tests.support.balancer import CONFIG, check_interval, config_for, haproxy
from tests.support.servers import ROOT

DEPLOY = ROOT / "deploy"
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile",
    "by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right",
    "le", "inf", "nan", "bool", "offset",
}  # fmt: skip


def haproxy_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [haproxy(), "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )


def test_the_haproxy_config_is_valid_and_routes_by_readiness(tmp_path: Path) -> None:
    checked = haproxy_check(CONFIG)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The same file with the test's servers in place of the compose replicas.
    local = tmp_path / "haproxy.cfg"
    local.write_text(config_for([8001, 8002]))
    checked = haproxy_check(local)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    text = CONFIG.read_text()
    assert "http-check send meth GET uri /api/health/ready" in text
    assert "http-check expect status 200" in text
    assert re.search(r"^\s*balance roundrobin$", text, re.MULTILINE)
    assert re.search(r"server-template api \d+ api:8000 check resolvers docker", text)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def documented_settings() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## Configuration") :]


def test_the_compose_stack_has_every_part_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "valkey", "api", "balancer"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name

    api = services["api"]
    assert api["deploy"]["replicas"] == "${API_REPLICAS:-3}"
    assert "ports" not in api, "only the balancer is published"
    assert api["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "valkey": {"condition": "service_healthy"},
    }
    assert "/api/health/ready" in " ".join(api["healthcheck"]["test"])
    env = api["environment"]
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["QUOTA_STORE_URL"] == "redis://valkey:6379/0"
    assert env["SESSION_SECRET"].startswith("${SESSION_SECRET:?"), "the same on every replica"
    for name in env:
        assert f"`{name}`" in documented_settings(), f"{name} is not in README's settings table"

    balancer = services["balancer"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in balancer["volumes"]
    assert balancer["environment"]["HAPROXY_BIND"] == ":8080"


def test_an_instance_outlasts_the_balancers_check_and_compose_waits_for_its_drain() -> None:
    api = compose()["services"]["api"]
    delay = float(api["environment"]["SHUTDOWN_DELAY"])
    inter, fall = check_interval(CONFIG.read_text())
    # Marked down after `fall` failed checks, one each `inter` at most: before the close.
    assert delay > inter * fall
    grace = int(api["stop_grace_period"].removesuffix("s"))
    assert grace >= math.ceil(delay) + GRACEFUL_SECONDS + LOG_DRAIN_SECONDS


def contract_metrics() -> set[str]:
    """The metric names docs/api.md lists (Operations), with a histogram's series."""
    names = set(
        re.findall(r"`((?:http_server|keygate)_[a-z_]+)", (ROOT / "docs/api.md").read_text())
    )
    histograms = {n for n in names if n.endswith("_seconds")}
    return names | {f"{h}_{part}" for h in histograms for part in ("bucket", "sum", "count")}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {w for w in words if w.lower() not in PROMQL_WORDS}


def test_metric_names_are_read_from_an_expression() -> None:
    expr = 'histogram_quantile(0.99, sum by (le, http_route) (rate(a_bucket{x="y"}[5m]))) > b'
    assert metric_names(expr) == {"a_bucket", "b"}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    return loaded


def test_the_dashboard_reads_only_the_contracts_metrics_and_shows_each_concern() -> None:
    board = dashboard()
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    read = set().union(*(metric_names(e) for e in exprs))
    assert read <= contract_metrics(), read - contract_metrics()
    assert read >= {
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_bucket",
        "keygate_quota_decisions_total",
        "keygate_db_pool_connections",
        "keygate_request_log_buffered",
        "keygate_request_log_dropped_total",
        "keygate_webhook_queue_depth",
    }
    joined = "\n".join(exprs)
    for quantile in ("0.5", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (le, http_route) "
            "(rate(http_server_request_duration_seconds_bucket" in joined
        )
    assert 'http_response_status_code="429"' in joined
    assert 'http_response_status_code=~"5.."' in joined
    assert 'keygate_quota_decisions_total{outcome="unavailable"}' in joined
    datasources = {p["datasource"]["uid"] for p in panels}
    assert datasources == {"${datasource}"}, "one Prometheus, chosen on import"


def test_the_alert_rules_parse_and_read_the_contracts_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())["groups"][0]["rules"]
    assert len({r["alert"] for r in rules}) == len(rules)
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        # `up` is Prometheus's own: whether the scrape answered.
        assert metric_names(rule["expr"]) <= contract_metrics() | {"up"}, rule["alert"]
