"""deploy/k8s/*.yaml parse, and hang together: what a pod references (Secret keys, the
ConfigMap, volume claims, Services, ``$(VAR)`` expansions) exists, and each GPU worker pod asks
for exactly one GPU. No cluster is contacted; this is the syntax and wiring check CI can run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SECRET_KEYS = {"redis-password", "postgres-password", "s3-access-key", "s3-secret-key"}  # as README.md creates them


def _documents() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                assert {"apiVersion", "kind", "metadata"} <= set(doc), (path.name, doc)
                assert doc["metadata"].get("name"), path.name
                docs.append(doc)
    return docs


DOCS = _documents()
WORKLOADS = [d for d in DOCS if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def _pod(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def _named(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in DOCS if d["kind"] == kind}


def test_every_manifest_parses_and_names_its_kind() -> None:
    kinds = {d["kind"] for d in DOCS}
    assert {"Deployment", "StatefulSet", "Service", "ConfigMap", "PersistentVolumeClaim", "Job"} <= kinds
    names = [(d["kind"], d["metadata"]["name"]) for d in DOCS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("doc", [d for d in WORKLOADS if d["kind"] != "Job"], ids=lambda d: d["metadata"]["name"])
def test_workload_selectors_match_their_pod_labels(doc: dict) -> None:
    selector = doc["spec"]["selector"]["matchLabels"]
    labels = doc["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()


def test_gpu_workers_are_a_deployment_with_one_gpu_per_pod_and_no_shared_folder() -> None:
    worker = _named("Deployment")["editbench-gpu-worker"]
    (container,) = _pod(worker)["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["args"] == ["worker", "--gpu", "0"]
    volumes = {v["name"]: v for v in _pod(worker)["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    # EDITBENCH_HOME (the read cache) is a per-pod emptyDir: images live in the object store.
    config = _named("ConfigMap")["editbench-config"]["data"]
    home_volume = next(name for path, name in mounts.items() if config["EDITBENCH_HOME"].startswith(path))
    assert "emptyDir" in volumes[home_volume]
    assert config["EDITBENCH_STORE_URL"].startswith("s3://")


def test_services_select_a_workload_and_urls_name_existing_services() -> None:
    pod_labels = [w["spec"]["template"]["metadata"]["labels"] for w in WORKLOADS if w["kind"] != "Job"]
    services = _named("Service")
    for name, service in services.items():
        assert any(service["spec"]["selector"].items() <= labels.items() for labels in pod_labels), name
    text = "\n".join(p.read_text() for p in K8S.glob("*.yaml"))
    hosts = set(re.findall(r"(?:redis|postgresql\+psycopg2|http)://(?:[^@/\s]*@)?([a-z0-9-]+):\d+", text))
    assert {"editbench-redis", "editbench-postgres", "editbench-object-store"} <= hosts
    for host in hosts:
        assert host in services, f"a URL names {host!r}, which no Service defines"


def test_pods_reference_only_what_exists() -> None:
    config_maps = _named("ConfigMap")
    claims = set(_named("PersistentVolumeClaim"))
    for doc in WORKLOADS:
        pod = _pod(doc)
        for volume in pod.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
        for container in pod["containers"]:
            defined: set[str] = set()
            for source in container.get("envFrom", []):
                defined |= set(config_maps[source["configMapRef"]["name"]]["data"])
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "editbench-secrets" and ref["key"] in SECRET_KEYS, ref
                for used in re.findall(r"\$\(([A-Z_]+)\)", var.get("value", "")):
                    assert used in defined, f"{var['name']} expands $({used}) before it is defined"
                defined.add(var["name"])
            for arg in container.get("args", []) + container.get("command", []):
                for used in re.findall(r"\$\(([A-Z_]+)\)", arg):
                    assert used in defined


def test_no_credential_is_written_into_a_manifest() -> None:
    for doc in WORKLOADS:
        for container in _pod(doc)["containers"]:
            for var in container.get("env", []):
                if re.search(r"PASSWORD|SECRET|ACCESS_KEY", var["name"]):
                    assert "valueFrom" in var, var["name"]
    assert not _named("Secret")  # created with kubectl, never committed
