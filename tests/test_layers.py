"""The house by layers: every package under ``app/`` imports only the layers below it, nothing
under ``app/`` imports in a circle, and nothing below ``app.web`` imports Flask or Werkzeug.

Plain ``ast`` over the source, so it sees lazy imports inside functions too (a lazy upward
import is still an upward dependency). Circles count module-level imports only: a package that
imports a backend inside a function (``app.store.open_store``) is not in a circle with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

#: Top to bottom: a module may import its own layer and any layer after it, never one before.
#: A module belongs to the longest entry that is its name or a prefix of it (``app.web.api.tasks``
#: is in ``app.web``); ``app`` is ``app/__init__.py`` alone, which wires the others.
LAYERS = ("app", "app.web", "app.config", "app.live", "app.view", "app.domain", "app.sources",
          "app.store")
#: The web layer: only it and the layers above it may import these.
WEB = "app.web"
HTTP_PACKAGES = ("flask", "werkzeug", "htmx_flask")


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root`` (a package named as
    ``root``'s folder)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, *, top_level_only: bool) -> set[str]:
    """Absolute names that module ``name`` (its file ``path``) imports: ``x.y`` for ``import
    x.y``, and ``pkg`` plus ``pkg.a`` for ``from pkg import a``. Relative imports are resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    nodes = _top_level(tree.body) if top_level_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _top_level(body: list[ast.stmt]):
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.dump(node.test):
            yield from _top_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body + node.orelse + node.finalbody)


def _own(target: str, known: dict[str, Path]) -> str | None:
    """The module of ours that ``target`` names (``app.store.Item`` -> ``app.store``), or None."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def layer_of(name: str) -> int:
    """Index of ``name``'s layer in :data:`LAYERS` (0 is the top).

    :raise LookupError: ``name`` is in no layer (a new package needs a place in the order).
    """
    best = max((layer for layer in LAYERS
                if name == layer or (layer != LAYERS[0] and name.startswith(layer + "."))),
               key=len, default=None)
    if best is None:
        raise LookupError(f"{name} is in no layer of LAYERS")
    return LAYERS.index(best)


def problems(root: Path) -> list[str]:
    """Every breach of the layering of the package at ``root`` (module docstring), one line each."""
    known = modules(root)
    found = []
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        here = layer_of(name)
        for target in sorted(imports(name, path, top_level_only=False)):
            top = target.split(".")[0]
            if top in HTTP_PACKAGES and here > LAYERS.index(WEB):
                found.append(f"{name} imports {target}: no Flask or Werkzeug below {WEB}")
            own = _own(target, known)
            if own is not None and own != name and layer_of(own) < here:
                found.append(f"{name} ({LAYERS[here]}) imports {own} ({LAYERS[layer_of(own)]}), "
                             "a higher layer")
        graph[name] = {own for target in imports(name, path, top_level_only=True)
                       if (own := _own(target, known)) not in (None, name, root.name)}
    found.extend(f"import circle: {' -> '.join(circle)}" for circle in circles(graph))
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected group of ``graph`` that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for group in groups:
        path = [group[0]]
        while True:  # walk inside the group until a node repeats
            nxt = min(n for n in graph[path[-1]] if n in group)
            if nxt in path:
                found.append(path[path.index(nxt):] + [nxt])
                break
            path.append(nxt)
    return found


def test_app_keeps_its_layers():
    assert problems(APP) == []


def test_every_module_under_app_has_a_layer():
    for name in modules(APP):
        layer_of(name)  # raises for a package outside the order


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "app"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize("files, expected", [
    ({"store/base.py": "from app.live import hub\n", "live/hub.py": ""},
     "app.store.base (app.store) imports app.live.hub (app.live), a higher layer"),
    ({"domain/alerts.py": "def f():\n    from ..web import errors\n", "web/errors.py": ""},
     "app.domain.alerts (app.domain) imports app.web.errors (app.web), a higher layer"),
    ({"live/hub.py": "from werkzeug.exceptions import HTTPException\n"},
     "app.live.hub imports werkzeug.exceptions.HTTPException: no Flask or Werkzeug below app.web"),
    ({"view/regions.py": "import flask\n"},
     "app.view.regions imports flask: no Flask or Werkzeug below app.web"),
    ({"web/a.py": "from . import b\n", "web/b.py": "from .a import x\n"},
     "import circle: app.web.a -> app.web.b -> app.web.a"),
    ({"web/api/__init__.py": "from . import events\nbp = 1\n", "web/api/events.py": "from . import bp\n"},
     "import circle: app.web.api -> app.web.api.events -> app.web.api"),
])
def test_each_breach_is_found(tmp_path, files, expected):
    assert expected in problems(_tree(tmp_path, files))


def test_what_the_layers_allow_is_not_a_breach(tmp_path):
    root = _tree(tmp_path, {
        "web/api/tasks.py": "import flask\nfrom app.live.tasks import stream\nfrom ..errors import e\n",
        "web/errors.py": "from werkzeug.exceptions import HTTPException\n",
        "live/tasks.py": "from app.domain import tasks\nfrom . import sse\n", "live/sse.py": "",
        "domain/tasks.py": "from app.store import Store\n",
        "store/__init__.py": "def open_store():\n    from .sqlite import S\n",
        "store/sqlite.py": "from . import Store\n",
    })
    assert problems(root) == []


def test_a_package_outside_the_order_is_named(tmp_path):
    with pytest.raises(LookupError, match=r"app\.extra is in no layer"):
        problems(_tree(tmp_path, {"extra/thing.py": ""}))
