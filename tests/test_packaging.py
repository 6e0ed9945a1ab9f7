"""pyproject.toml, environment.yml and requirements.txt list the same dependencies."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


def _environment() -> dict[str, Requirement]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    reqs = [r for r in pip if not r.startswith("-e")]
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


def _requirements() -> dict[str, Requirement]:
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    return {Requirement(ln).name.lower(): Requirement(ln) for ln in lines if ln}


def test_environment_yml_matches_pyproject_exactly():
    py, env = _pyproject(), _environment()
    assert set(env) == set(py)
    for name in py:
        assert env[name].specifier == py[name].specifier, name
        assert env[name].extras == py[name].extras, name


def test_requirements_pin_every_dependency_within_its_range():
    py, pins = _pyproject(), _requirements()
    assert set(pins) == set(py)
    for name, req in pins.items():
        (spec,) = req.specifier
        assert spec.operator == "==", f"{name} is not pinned"
        assert py[name].specifier.contains(spec.version, prereleases=True), name


def test_environment_installs_the_package_itself_and_has_python_and_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    plain = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python") for d in plain) and "pip" in plain
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_torch_is_a_range_for_gpu_users():
    assert str(_pyproject()["torch"].specifier) == ">=2.3"
