"""Dashboards and alert rules: valid, and every metric a query names is one the code exports."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import REPO, SERVICES, Tool

DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
RULES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
METRIC_KINDS = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan",
}  # fmt: skip
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio",
}  # fmt: skip


# ------------------------------------------------------------------ what the code exports


def _defined_metrics(path: Path) -> dict[str, str]:
    """``{name: kind}`` for every prometheus_client metric constructed in a Python file."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        kind = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if kind not in METRIC_KINDS or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found[first.value] = kind
    return found


def _exposed_names(name: str, kind: str) -> set[str]:
    """The sample names prometheus_client exposes for a metric (counters gain _total, histograms
    _bucket/_sum/_count, and both a _created sample)."""
    if kind == "Counter":
        base = name.removesuffix("_total")
        return {f"{base}_total", f"{base}_created"}
    if kind == "Histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
    if kind == "Summary":
        return {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
    if kind == "Info":
        return {f"{name}_info"}
    return {name}


def exported_metrics() -> dict[str, set[str]]:
    """``{owner: sample names}``, owner being "shared" or a service name."""
    owners: dict[str, set[str]] = {"shared": set()}
    for path in (REPO / "shared" / "src").rglob("*.py"):
        for name, kind in _defined_metrics(path).items():
            owners["shared"] |= _exposed_names(name, kind)
    for service in SERVICES:
        owners[service] = set()
        for path in (REPO / "services" / service / "src").rglob("*.py"):
            for name, kind in _defined_metrics(path).items():
                owners[service] |= _exposed_names(name, kind)
    return owners


ALWAYS_THERE = {"up"}
"""Series Prometheus itself writes for every target."""


# ------------------------------------------------------------------ what the queries use


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects: identifiers that are not functions, keywords, label names
    in grouping clauses, label matchers, strings, durations or Grafana variables."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\$\w+", "", text)
    names: set[str] = set()
    tokens = list(re.finditer(r"[0-9.][0-9A-Za-z.+]*|[A-Za-z_:][A-Za-z0-9_:]*|\(|\)", text))
    i = 0
    while i < len(tokens):
        token = tokens[i].group()
        following = tokens[i + 1].group() if i + 1 < len(tokens) else ""
        if token.lower() in GROUPING and following == "(":
            depth, i = 0, i + 1
            while i < len(tokens):  # skip the label list
                depth += {"(": 1, ")": -1}.get(tokens[i].group(), 0)
                if depth == 0:
                    break
                i += 1
        elif (
            re.match(r"[A-Za-z_:]", token)
            and following != "("
            and token.lower() not in PROMQL_WORDS
            and not (token in AGGREGATIONS and following.lower() in {"by", "without"})
        ):
            names.add(token)
        i += 1
    return names


def dashboard_queries() -> dict[str, list[str]]:
    result = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        result[path.name] = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return result


def rule_queries() -> list[str]:
    return [rule["expr"] for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for rule in g["rules"]]


# ------------------------------------------------------------------ tests


def test_metric_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, service) (rate(medsupport_x_seconds_bucket{service="a", le!="1"}'
        "[$__rate_interval]))) / on (service) group_left sum without (route) (up) and foo_total offset 5m"
    )
    assert metric_names(expr) == {"medsupport_x_seconds_bucket", "up", "foo_total"}


def test_the_code_exports_the_metrics_readme_promises() -> None:
    exported = exported_metrics()
    shared = exported["shared"]
    for name in (
        "medsupport_http_requests_total",
        "medsupport_http_request_duration_seconds_bucket",
        "medsupport_events_published_total",
        "medsupport_events_consumed_total",
        "medsupport_events_dead_lettered_total",
        "medsupport_outbox_backlog",
        "medsupport_consumer_lag",
        "medsupport_dependency_up",
    ):
        assert name in shared
    assert "medsupport_notifications_open_urgent_alerts" in exported["notifications"]
    assert "medsupport_notifications_time_to_acknowledge_seconds_bucket" in exported["notifications"]


def test_every_dashboard_and_rule_metric_is_exported() -> None:
    exported = set().union(*exported_metrics().values()) | ALWAYS_THERE
    queries = [(name, expr) for name, exprs in dashboard_queries().items() for expr in exprs]
    queries += [("alert rules", expr) for expr in rule_queries()]
    assert len(queries) > 50
    missing = {(where, name) for where, expr in queries for name in metric_names(expr) if name not in exported}
    assert not missing, f"queries name metrics no code exports: {sorted(missing)}"
    for where, expr in queries:
        assert metric_names(expr), f"{where}: no metric in {expr!r}"


def test_promql_parses_with_prometheus_parser_and_names_match(
    rulecheck: Tool, tmp_path: Path, report: list[str]
) -> None:
    """The real Prometheus parser (via rulecheck) accepts every dashboard query and finds the same metric
    names as the extraction above."""
    report.append(rulecheck.how)
    tool = rulecheck.require()
    exprs = [e for es in dashboard_queries().values() for e in es] + rule_queries()
    # Grafana's interval variables are not PromQL: give them a value as Grafana does.
    lines = [re.sub(r"\$__\w+", "5m", " ".join(e.split())) for e in exprs]
    source = tmp_path / "exprs.txt"
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run([str(tool), "exprs", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    parsed = done.stdout.splitlines()
    assert len(parsed) == len(lines)
    for expr, names in zip(exprs, parsed, strict=True):
        assert set(names.split()) == metric_names(expr), expr


def test_alert_rules_pass_promtool_or_prometheus_rule_parser(
    promtool: Tool, rulecheck: Tool, report: list[str]
) -> None:
    assert RULES
    if promtool.path is not None:
        done = subprocess.run([str(promtool.path), "check", "rules", *map(str, RULES)], capture_output=True, text=True)
        report.append(f"promtool check rules: {promtool.how}")
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        report.append(promtool.how)
    # Always also Prometheus's own rule parser (what promtool check rules runs), built from tests/deploy/rulecheck.
    tool = rulecheck.require()
    done = subprocess.run([str(tool), "rules", *map(str, RULES)], capture_output=True, text=True)
    report.append(f"rulecheck (Prometheus rulefmt): {rulecheck.how}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rules found" in done.stdout


def test_alert_rules_cover_what_operators_need() -> None:
    rules = {
        rule["alert"]: rule for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for rule in g["rules"]
    }
    needed = {
        "MedsupportServiceDown": "up",
        "MedsupportDeadLettersGrowing": "medsupport_events_dead_lettered_total",
        "MedsupportOutboxBacklogGrowing": "medsupport_outbox_backlog",
        "MedsupportConsumerLagHigh": "medsupport_consumer_lag",
        "MedsupportUrgentAlertUnacknowledged": "medsupport_notifications_open_urgent_alerts",
        "MedsupportHighErrorRatio": "medsupport_http_requests_total",
    }
    for alert, metric in needed.items():
        assert alert in rules, f"missing alert {alert}"
        assert metric in metric_names(rules[alert]["expr"]), alert
    for alert, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, alert
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], alert
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), alert


def test_dashboards_are_valid_and_provisioned() -> None:
    boards = {p.name: json.loads(p.read_text()) for p in DASHBOARDS.glob("*.json")}
    assert set(boards) == {"platform-overview.json", *(f"{s}.json" for s in SERVICES)}
    datasource = yaml.safe_load((REPO / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, (name, panel["title"])
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == uid, (name, panel["title"])
                assert target["expr"].strip()
    provider = yaml.safe_load((REPO / "deploy/grafana/provisioning/dashboards/medsupport.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def test_overview_shows_the_platform_signals() -> None:
    used = set().union(*(metric_names(e) for e in dashboard_queries()["platform-overview.json"]))
    for metric in (
        "medsupport_http_requests_total",
        "medsupport_http_request_duration_seconds_bucket",
        "medsupport_events_published_total",
        "medsupport_events_consumed_total",
        "medsupport_events_dead_lettered_total",
        "medsupport_outbox_backlog",
        "medsupport_consumer_lag",
        "medsupport_notifications_open_urgent_alerts",
        "medsupport_notifications_time_to_acknowledge_seconds_bucket",
    ):
        assert metric in used, metric


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_dashboard_shows_its_own_metrics(service: str) -> None:
    """A metric a service defines appears on its dashboard (add a panel in deploy/grafana/build_dashboards.py
    when you add a metric)."""
    exported = exported_metrics()[service]
    used = set().union(*(metric_names(e) for e in dashboard_queries()[f"{service}.json"]))
    bases = {re.sub(r"_(bucket|sum|count|created|total)$", "", name) for name in exported}
    shown = {re.sub(r"_(bucket|sum|count|created|total)$", "", name) for name in used}
    assert bases <= shown, f"{service} metrics missing from its dashboard: {sorted(bases - shown)}"
    assert 'service="' + service + '"' in "".join(dashboard_queries()[f"{service}.json"])


def test_dashboard_files_match_their_generator() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "grafana" / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
