"""The layers, checked on the product's modules (tests excluded): imports run one way.

Apps import the kernel (``topbox``) and the apps below them (interactions → engagements
→ clients); the kernel imports no app except in ``urls.py``, which wires their views;
``sampledata`` (fixtures, synthetic data, the ``seed`` command) may import every app, and
nothing in the product imports it or ``devtools``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each package may import among the project's own packages.
ALLOWED = {
    "topbox": {"topbox"},
    "clients": {"topbox", "clients"},
    "engagements": {"topbox", "clients", "engagements"},
    "interactions": {"topbox", "clients", "engagements", "interactions"},
    "sampledata": {"topbox", "clients", "engagements", "interactions", "sampledata"},
    "devtools": {"topbox", "devtools"},
}
EXCEPTIONS = {"topbox/urls.py": {"clients", "engagements", "interactions"}}


def product_modules():
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "tests" not in relative.parts and "migrations" not in relative.parts:
                yield relative


def imported_packages(path):
    tree = ast.parse((ROOT / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("path", list(product_modules()), ids=str)
def test_imports_run_one_way(path):
    package = path.parts[0]
    allowed = ALLOWED[package] | EXCEPTIONS.get(path.as_posix(), set())
    forbidden = {name for name in imported_packages(path) if name in ALLOWED and name not in allowed}
    assert not forbidden, f"{path} imports {sorted(forbidden)}"
