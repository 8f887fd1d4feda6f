"""The architecture, checked: the import contracts of pyproject.toml (import-linter),
the engine on the standard library alone, and emits in the fan-out alone."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "queue_server" / "engine"


def test_the_import_contracts_hold():
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def test_the_engine_imports_only_the_standard_library_and_itself():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for path in ENGINE.glob("*.py"):
        for name, level in _imports(path):
            if level:  # relative: must stay inside the engine
                assert level == 1, f"{path.name} reaches outside the engine: {'.' * level}{name}"
                continue
            assert name.split(".")[0] in stdlib, f"{path.name} imports {name}"


def test_nothing_but_the_fan_out_emits():
    offenders = []
    for path in (ROOT / "queue_server").rglob("*.py"):
        if path.name == "fanout.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "emit":
                base = node.func.value
                target = base.attr if isinstance(base, ast.Attribute) else \
                    base.id if isinstance(base, ast.Name) else ""
                if target not in ("fanout", "fo", "self") or "socketio" in ast.unparse(base):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} "
                                     f"{ast.unparse(node.func)}")
    assert not offenders, offenders
