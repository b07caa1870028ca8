"""The Kubernetes manifests (deploy/kubernetes): each resource is valid
against the schemas of a named Kubernetes version (strict: no unknown field),
kustomization.yaml lists every manifest, and the instances take the same
environment variables as in compose.yaml.

kubernetes-validate carries its schemas (requirements-dev.txt pins it):
nothing is fetched, nothing is rendered through a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.lint

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = REPO_ROOT / "deploy" / "kubernetes"
# One that kubernetes-validate 1.37.0 carries; raise it with the pin.
KUBERNETES_VERSION = "1.37.0"
# Given as a file in the manifests (a mounted Secret), maybe plainly in compose.yaml.
SECRETS = ("ADMIN_TOKEN", "ZK_DIGEST_PASSWORD")


def manifest_files() -> list[Path]:
    return sorted(path for path in MANIFESTS.glob("*.yaml") if path.name != "kustomization.yaml")


def resources(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def all_resources() -> list[dict[str, Any]]:
    return [resource for path in manifest_files() for resource in resources(path)]


@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: path.name)
def test_every_resource_is_valid_for_the_named_kubernetes_version(path: Path) -> None:
    found = resources(path)
    assert found, f"{path.name} holds no resource"
    for resource in found:
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except jsonschema.ValidationError as exc:  # kubernetes-validate raises it unwrapped
            name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
            pytest.fail(f"{path.name}: {name}: {exc.message} at {'.'.join(map(str, exc.path))}")


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [path.name for path in manifest_files()]


def compose_instance_env() -> dict[str, set[str]]:
    """Each api service's variable names (the x- anchors merged in by the YAML loader)."""
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    return {name: set(services[name]["environment"]) for name in ("api1", "api2", "api3")}


def manifest_instance_env() -> set[str]:
    (statefulset,) = [r for r in all_resources() if r["kind"] == "StatefulSet" and r["metadata"]["name"] == "api"]
    (container,) = [c for c in statefulset["spec"]["template"]["spec"]["containers"] if c["name"] == "api"]
    return {variable["name"] for variable in container["env"]}


def normalised(names: set[str]) -> set[str]:
    """``NAME_FILE`` and ``NAME`` count as one for the secrets (either form is the contract)."""
    return {name.removesuffix("_FILE") if name.removesuffix("_FILE") in SECRETS else name for name in names}


def test_compose_and_the_manifests_give_the_instances_the_same_variables() -> None:
    manifest = manifest_instance_env()
    for service, names in compose_instance_env().items():
        only_compose = sorted(normalised(names) - normalised(manifest))
        only_manifest = sorted(normalised(manifest) - normalised(names))
        assert not only_compose and not only_manifest, (
            f"{service} in compose.yaml and the api StatefulSet disagree: "
            f"only in compose.yaml {only_compose}, only in the manifests {only_manifest}"
        )


def test_no_secret_value_in_the_instances_environment() -> None:
    """The manifests use the _FILE form only: a plain secret variable would show in `kubectl describe`."""
    assert not manifest_instance_env() & set(SECRETS)
