"""Dependencies between the library's layers point one way (see docs/architecture.md).

Every import of every module (top-level and inside functions) is read with ``ast``; a
module may import from its own layer's component or from a lower layer, never upwards or
sideways.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS = [
    {"kernels", "datasets", "metrics", "ridge", "jsonable"},
    {"nn", "data"},
    {"training"},
    {"estimators", "baselines"},
    {"stateful"},
    {"tuning", "ltsf", "model_selection", "plotting"},
    {"cli"},
]
"""Components from the bottom layer up."""

RANK = {component: rank for rank, layer in enumerate(LAYERS) for component in layer}


def _component(path: Path) -> str:
    """The component a source file belongs to."""
    rel = path.relative_to(ROOT)
    if rel.parts[0] in ("kernels", "datasets"):
        return rel.parts[0]
    return rel.parts[1] if len(rel.parts) > 2 else rel.stem


def _imported(path: Path, source: str | None = None) -> set[str]:
    """Components of ours that ``path`` (or ``source`` as if it were at ``path``) imports."""
    here = _component(path)
    package = path.relative_to(ROOT).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package[: len(package) - node.level + 1]
                names = [".".join((*base, node.module or ""))]
                if base and base[0] in ("kernels", "datasets"):
                    names = [f"xlstm_ts.{base[0]}"]
                if len(base) == 1 and node.module is None:  # from .. import x
                    names = [f"xlstm_ts.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "xlstm_ts" and len(parts) > 1:
                found.add(parts[1])
    found.discard(here)
    return found


def _sources() -> list[Path]:
    files = [*ROOT.glob("xlstm_ts/**/*.py"), *ROOT.glob("kernels/**/*.py")]
    files += ROOT.glob("datasets/**/*.py")
    return sorted(p for p in files if p != ROOT / "xlstm_ts" / "__init__.py")


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    here = _component(path)
    assert here in RANK, f"{here} (from {path}) is in no layer of LAYERS"
    upward = sorted(c for c in _imported(path) if RANK.get(c, len(LAYERS)) >= RANK[here])
    assert not upward, f"{path.relative_to(ROOT)} ({here}) imports {upward} from its layer or above"


def test_the_check_sees_upward_imports():
    # a module of nn importing the estimators or the training, absolutely or relatively
    fake = ROOT / "xlstm_ts" / "nn" / "fake.py"
    assert _imported(fake, "from xlstm_ts.estimators import x") == {"estimators"}
    assert _imported(fake, "def f():\n    from ..training import fit_module") == {"training"}
    assert _imported(fake, "from .stack import XLSTMStack") == set()
