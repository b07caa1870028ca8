"""services/api as a distribution: ranges in pyproject.toml, exact pins in the requirements files.

The library depends on kazoo only; the service and the command are extras.
Every dependency is a version range, and every pin the image and the tests
install (services/api/requirements.txt) satisfies its range.
"""

from __future__ import annotations

import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.compose import REPO_ROOT

API = REPO_ROOT / "services" / "api"
EXTRAS = {
    "server": {"flask", "gunicorn", "prometheus-client"},
    "cli": {"click", "rich"},
}


def project() -> dict[str, Any]:
    found: dict[str, Any] = tomllib.loads((API / "pyproject.toml").read_text())["project"]
    return found


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in (API / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{path}: {line} is not pinned with =="
            found[canonicalize_name(name)] = version.strip()
    return found


def requirements() -> list[Requirement]:
    listed = list(project()["dependencies"])
    for extra in project()["optional-dependencies"].values():
        listed.extend(extra)
    return [Requirement(r) for r in listed]


def test_the_library_depends_on_kazoo_only() -> None:
    assert [canonicalize_name(Requirement(r).name) for r in project()["dependencies"]] == ["kazoo"]


def test_the_extras_are_server_and_cli() -> None:
    extras = project()["optional-dependencies"]
    assert {name: {canonicalize_name(Requirement(r).name) for r in listed} for name, listed in extras.items()} == EXTRAS


def test_dependencies_are_ranges_and_the_pins_satisfy_them() -> None:
    image = pins("requirements.txt")
    for requirement in requirements():
        specifiers = [s.operator for s in requirement.specifier]
        assert specifiers and "==" not in specifiers and "===" not in specifiers, f"{requirement} is not a range"
        assert any(op in ("<", "<=", "~=") for op in specifiers), f"{requirement} has no upper bound"
        pinned = image.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned in requirements.txt"
        assert requirement.specifier.contains(pinned), f"pin {requirement.name}=={pinned} is outside {requirement}"


def test_the_build_backend_is_in_requirements_build_txt() -> None:
    build = pins("requirements-build.txt")
    system = tomllib.loads((API / "pyproject.toml").read_text())["build-system"]
    for requirement in system["requires"]:
        name, _, version = requirement.partition("==")
        assert build.get(canonicalize_name(name)) == version, requirement


def test_the_dev_requirements_include_the_image_pins() -> None:
    lines = [line.strip() for line in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-r services/api/requirements.txt" in lines


def test_the_console_script_points_at_the_command() -> None:
    module, _, attr = project()["scripts"]["zkleader"].partition(":")
    from importlib import import_module

    assert callable(getattr(import_module(module), attr))


def test_py_typed_is_in_the_package() -> None:
    assert (API / "zkleader" / "py.typed").is_file()  # the built wheel's list: tests/core/test_distribution.py
