"""services/api as a distribution: its pins agree with the image's requirements."""

from __future__ import annotations

import re
import tomllib

from tests.support.compose import REPO_ROOT

API = REPO_ROOT / "services" / "api"


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in (API / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def test_dependencies_are_pinned_as_in_requirements_txt() -> None:
    project = tomllib.loads((API / "pyproject.toml").read_text())
    image = pins("requirements.txt")
    for requirement in project["project"]["dependencies"]:
        name, sep, version = requirement.partition("==")
        assert sep, f"{requirement} is not pinned"
        assert image.get(re.sub(r"[-_.]+", "-", name).lower()) == version, requirement


def test_the_build_backend_is_in_requirements_build_txt() -> None:
    project = tomllib.loads((API / "pyproject.toml").read_text())
    build = pins("requirements-build.txt")
    for requirement in project["build-system"]["requires"]:
        name, _, version = requirement.partition("==")
        assert build.get(re.sub(r"[-_.]+", "-", name).lower()) == version, requirement


def test_the_console_script_points_at_the_command() -> None:
    project = tomllib.loads((API / "pyproject.toml").read_text())
    module, _, attr = project["project"]["scripts"]["zkleader"].partition(":")
    from importlib import import_module

    assert callable(getattr(import_module(module), attr))
