"""deploy/k8s/: the manifests and the ingress controller's log format."""

from typing import Any

import pytest
import yaml
from django.urls import Resolver404, resolve

import celeryconfig
from tests.deploy.helpers import (
    CONTROLLER_CONFIG,
    K8S,
    LONGEST_HOUSEKEEPING_TASK,
    assert_log_format_has_no_query,
    k8s_config_data,
    k8s_containers,
    k8s_documents,
    k8s_http_probes,
    rel,
)


def test_k8s_documents_are_well_formed() -> None:
    docs = k8s_documents()
    kinds = {doc["kind"] for _, doc in docs}
    assert kinds >= {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "Job",
        "HorizontalPodAutoscaler",
    }
    for path, doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), rel(path)
        if doc["kind"] == "Kustomization":
            for resource in doc["resources"]:
                assert (K8S / resource).is_file(), f"kustomization lists missing {resource}"
            assert CONTROLLER_CONFIG.name not in doc["resources"], "its namespace would be rewritten"
            continue
        if path == CONTROLLER_CONFIG:
            assert doc["metadata"]["namespace"] == "ingress-nginx"
            continue
        assert doc.get("metadata", {}).get("name"), f"{rel(path)}: {doc['kind']} without metadata.name"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "smsbridge", f"{rel(path)}: {doc['kind']} namespace"


def _deployments() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == "Deployment"}


def test_k8s_selectors_and_autoscalers_point_at_real_workloads() -> None:
    deployments = _deployments()
    assert set(deployments) >= {"smsbridge-web", "smsbridge-worker", "smsbridge-beat", "smsbridge-flower"}
    for name, doc in deployments.items():
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    pod_labels = [doc["spec"]["template"]["metadata"]["labels"] for doc in deployments.values()]
    hpa_targets = set()
    for _, doc in k8s_documents():
        if doc["kind"] == "Service":
            selector = doc["spec"]["selector"]
            assert any(selector.items() <= labels.items() for labels in pod_labels), doc["metadata"]["name"]
        if doc["kind"] == "HorizontalPodAutoscaler":
            assert doc["apiVersion"] == "autoscaling/v2"
            target = doc["spec"]["scaleTargetRef"]
            assert target["kind"] == "Deployment" and target["name"] in deployments
            assert any(m["resource"]["name"] == "cpu" for m in doc["spec"]["metrics"])
            hpa_targets.add(target["name"])
    assert hpa_targets >= {"smsbridge-web", "smsbridge-worker"}


def test_k8s_containers_take_config_and_secrets_from_the_environment() -> None:
    config_names = {doc["metadata"]["name"] for _, doc in k8s_documents() if doc["kind"] == "ConfigMap"}
    secret_names = {doc["metadata"]["name"] for _, doc in k8s_documents() if doc["kind"] == "Secret"}
    for where, _, container in k8s_containers():
        refs = container.get("envFrom", [])
        assert {r["configMapRef"]["name"] for r in refs if "configMapRef" in r} & config_names, where
        assert {r["secretRef"]["name"] for r in refs if "secretRef" in r} & secret_names, where
        assert container["image"] and not container.get("env"), f"{where}: configure through envFrom"


def test_k8s_web_probes_hit_real_health_endpoints_with_an_allowed_host() -> None:
    config, _ = k8s_config_data()
    allowed = {host.strip() for host in config["DJANGO_ALLOWED_HOSTS"].split(",")}
    web = _deployments()["smsbridge-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    for where, doc, probe in k8s_http_probes():
        if doc["metadata"]["name"] == "smsbridge-flower":
            assert probe["path"] == "/healthcheck", where  # Flower's own, unauthenticated
            continue
        try:
            resolve(probe["path"])
        except Resolver404:
            pytest.fail(f"{where}: {probe['path']} is not a URL of the project")
        hosts = {h["value"] for h in probe.get("httpHeaders", []) if h["name"].lower() == "host"}
        assert hosts and hosts <= allowed, f"{where}: Host header must be one of DJANGO_ALLOWED_HOSTS"


def test_k8s_workers_shut_down_warm_and_beat_runs_a_standby() -> None:
    deployments = _deployments()
    worker = deployments["smsbridge-worker"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > celeryconfig.task_time_limit
    probe = worker["containers"][0]["livenessProbe"]["exec"]["command"]
    assert "inspect ping" in " ".join(probe) and "$HOSTNAME" in " ".join(probe)
    # Safe only because of the single-beat lock scheduler.
    assert deployments["smsbridge-beat"]["spec"]["replicas"] == 2
    assert celeryconfig.beat_scheduler == "apps.core.beat:SingleBeatScheduler"


def test_k8s_housekeeping_worker_is_its_own_deployment_pinged_by_its_own_name() -> None:
    spec = _deployments()["smsbridge-housekeeping"]["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] > LONGEST_HOUSEKEEPING_TASK
    container = spec["containers"][0]
    command = " ".join(container["command"])
    assert "-Q housekeeping" in command and "housekeeping@$HOSTNAME" in command
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert "inspect ping" in probe and '"housekeeping@$HOSTNAME"' in probe


def test_k8s_callbacks_worker_is_its_own_deployment_pinged_by_its_own_name() -> None:
    callbacks = _deployments()["smsbridge-callbacks"]["spec"]["template"]["spec"]
    assert callbacks["terminationGracePeriodSeconds"] > celeryconfig.task_time_limit
    container = callbacks["containers"][0]
    assert "-Q callbacks" in " ".join(container["command"]) and "callbacks@$HOSTNAME" in " ".join(
        container["command"]
    )
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert "inspect ping" in probe and '"callbacks@$HOSTNAME"' in probe


def test_ingress_controller_logs_paths_without_query_strings() -> None:
    (doc,) = yaml.safe_load_all(CONTROLLER_CONFIG.read_text())
    assert doc["kind"] == "ConfigMap"
    log_format = doc["data"]["log-format-upstream"]
    assert_log_format_has_no_query(log_format)
    assert "$smsbridge_log_path" in log_format and "$smsbridge_log_path" in doc["data"]["http-snippet"]
