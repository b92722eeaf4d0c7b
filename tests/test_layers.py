"""The package's layering, checked on the source: a lower layer never imports a higher one.

Data flows one way (discovery -> crawl -> snapshot -> attribution -> analysis -> outputs); the table below is the
rule that keeps it so, and docs/ARCHITECTURE.md states the same table in prose. A module is named by its first
component under ``monitor`` (``monitor.crawl.engine`` -> ``crawl``); ``monitor`` itself (the version) and
``__main__`` are left out.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

MONITOR = Path(__file__).resolve().parents[1] / "monitor"

BASE = {"errors"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "fileio": BASE,
    "paths": BASE,
    "snapshot_check": BASE,  # field checks of records read from disk (issue 16)
    "snapshot": BASE | {"fileio", "snapshot_check"},
    "p2p": BASE,
    "discovery": BASE | {"p2p"},
    "rlpx": BASE | {"p2p", "discovery"},
    "rpc": BASE | {"p2p", "discovery", "rlpx"},
    "crawl": BASE | {"p2p", "discovery", "rlpx", "rpc", "snapshot", "paths", "fileio"},
    "hosting": BASE | {"snapshot", "paths", "fileio"},
    "analysis": BASE | {"snapshot"},
    "seeds": BASE | {"analysis", "discovery"},
    "pipeline": BASE | {"crawl", "hosting", "snapshot"},
    "outputs": BASE | {"analysis", "snapshot", "fileio"},
    "store": BASE | {"snapshot", "analysis", "paths", "fileio"},
    "exporter": BASE | {"analysis", "store", "snapshot", "paths", "fileio"},
    "sim": BASE | {"p2p", "discovery", "rlpx", "crawl", "hosting", "analysis", "snapshot", "paths", "fileio"},
    "cli": set(),  # the top: may import anything (filled below)
}
ALLOWED["cli"] = set(ALLOWED) - {"cli"}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "monitor" or len(parts) < 2 or parts[1] == "__main__":
        return None
    return parts[1]


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from monitor import crawl` names a subpackage: check each imported name as a module too
            if target == "monitor":
                found.extend((node.lineno, f"monitor.{alias.name}") for alias in node.names)
    return found


def layer_violations(root: Path = MONITOR) -> list[str]:
    """Every import of a layer that the importing layer may not use, as ``file:line: a -> b``."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        own = _layer(module)
        if own is None:
            continue
        if own not in ALLOWED:
            problems.append(f"{path}: layer {own!r} is not in the import table (add it to tests/test_layers.py)")
            continue
        for line, target in _imports(path, module):
            other = _layer(target)
            if other is None or other == own or other not in ALLOWED:
                continue
            if other not in ALLOWED[own]:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {own} -> {other}")
    return problems


def test_no_layer_imports_a_higher_one() -> None:
    assert layer_violations() == []


def test_every_package_is_in_the_table() -> None:
    present = {p.stem if p.is_file() else p.name for p in MONITOR.iterdir() if p.suffix == ".py" or p.is_dir()}
    present -= {"__init__", "__main__", "__pycache__"}
    assert present <= set(ALLOWED), present - set(ALLOWED)


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("analysis/planted.py", "from monitor.outputs.terminal import report\n", "analysis -> outputs"),
        ("p2p/planted.py", "import monitor.crawl.engine\n", "p2p -> crawl"),
        (
            "discovery/v4/planted.py",
            "from ..enr import ENR\nfrom ...hosting import x\n",
            "discovery -> hosting",
        ),
        ("snapshot_extra.py", "from monitor import analysis\n", "not in the import table"),
        ("hosting/planted.py", "def f():\n    from monitor.cli import main\n", "hosting -> cli"),
    ],
)
def test_a_planted_violation_is_caught(tmp_path: Path, where: str, source: str, expected: str) -> None:
    copy = tmp_path / "monitor"
    shutil.copytree(MONITOR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so", "data"))
    (copy / where).write_text(source, encoding="utf-8")
    problems = layer_violations(copy)
    assert len(problems) == 1 and expected in problems[0], problems
