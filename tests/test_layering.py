"""The import graph keeps its layers: contracts <- core <- plug-ins, with no arrow back up.

Every ``import`` in the package (function-local ones included) is read with ``ast``:
- the contracts layer (``nasearch.api``, ``nasearch.api.graph``, ``nasearch.api.errors``) imports nothing
  else of nasearch;
- the core (every other ``nasearch`` module) never imports a concrete space or predictor;
- spaces and predictors never import each other, and no module imports another package's private
  (``_name``) objects; no core module imports another core module's private objects;
- the core's module-level imports form no cycle, and a function-local import in the core is of a
  third-party package only (heavy ones, kept out of ``import nasearch``): never of our own modules or
  the standard library, so no cycle hides behind one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import nasearch

ROOT = Path(nasearch.__file__).resolve().parent.parent
FOLDERS = {
    "nasearch": ROOT / "nasearch",
    "nasearch.search_spaces": ROOT / "search_spaces",
    "nasearch.predictors": ROOT / "predictors",
}
CONTRACTS = ("nasearch.api", "nasearch.api.graph", "nasearch.api.errors")
PLUGINS = ("nasearch.search_spaces", "nasearch.predictors")


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import statement, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def _module_level_imports(path: Path, module: str) -> list[tuple[str, list[str]]]:
    """Like ``_imports``, for the statements that run when the module is imported: none inside a
    function, none under ``if TYPE_CHECKING:``."""
    found = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if isinstance(node, ast.ClassDef):
                    visit(
                        [n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
                    )
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend((alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
                found.append((base, [alias.name for alias in node.names]))
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(node, field, []) or [])

    visit(ast.parse(path.read_text()).body)
    return found


def _core_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module-level import edges among core modules. Importing ``a.b.c`` also runs the packages
    ``a`` and ``a.b`` (edges to them, except to the importer's own packages); ``from a import b``
    imports the module ``a.b`` where there is one."""
    core = {m for m in modules if not _within(m, PLUGINS)}
    graph: dict[str, set[str]] = {m: set() for m in core}
    for module in core:
        for imported, names in _module_level_imports(modules[module], module):
            targets = [imported, *(f"{imported}.{n}" for n in names)]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    name = ".".join(parts[:i])
                    if name in core and name != module and not _within(module, (name,)):
                        graph[module].add(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


MODULES = _modules()


def test_the_package_is_one_namespace():
    assert "nasearch.predictors.nnformer" in MODULES and "nasearch.search_spaces.nasbench201.space" in MODULES
    for module, path in MODULES.items():
        for imported, _ in _imports(path, module):
            top = imported.split(".")[0]
            assert top not in ("predictors", "search_spaces"), f"{module} imports the top-level {imported!r}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, CONTRACTS)))
def test_contracts_import_nothing_above_them(module):
    for imported, _ in _imports(MODULES[module], module):
        if imported.startswith("nasearch"):
            assert _within(imported, CONTRACTS), f"the contracts module {module} imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _within(m, PLUGINS)))
def test_core_never_imports_a_concrete_space_or_predictor(module):
    text = MODULES[module].read_text()
    for imported, _ in _imports(MODULES[module], module):
        assert not _within(imported, PLUGINS), f"the core module {module} imports {imported}"
    for plugin in PLUGINS:  # nor names one by module path in a string (registries use entry points)
        assert f'"{plugin}.' not in text, f"the core module {module} names a {plugin} module"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, PLUGINS)))
def test_plugins_stay_apart_and_use_only_public_names(module):
    own = next(p for p in PLUGINS if _within(module, (p,)))
    for imported, names in _imports(MODULES[module], module):
        other = [p for p in PLUGINS if p != own and _within(imported, (p,))]
        assert not other, f"{module} imports {imported}: spaces and predictors depend on the core only"
        if imported.startswith("nasearch") and not _within(imported, (own,)):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{module} imports private {private} from {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _within(m, PLUGINS)))
def test_core_modules_use_only_each_others_public_names(module):
    for imported, names in _imports(MODULES[module], module):
        if imported.startswith("nasearch") and imported != module:
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{module} imports private {private} from {imported}"


def _local_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import inside a function (relative ones: ``nasearch``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, alias.name.split(".")[0]) for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    found.append(
                        (inner.lineno, "nasearch" if inner.level else (inner.module or "").split(".")[0])
                    )
    return sorted(set(found))


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _within(m, PLUGINS)))
def test_core_imports_its_own_and_standard_modules_at_module_level(module):
    local = [
        (line, top)
        for line, top in _local_imports(MODULES[module])
        if top == "nasearch" or top in sys.stdlib_module_names
    ]
    assert not local, f"{module} imports {local} inside a function: import them at the top of the module"


def test_the_core_has_no_import_cycle():
    cycles = _cycles(_core_graph(MODULES))
    assert not cycles, "module-level import cycles in the core: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle(tmp_path):
    (tmp_path / "a.py").write_text("from nasearch.b import thing\n")
    (tmp_path / "b.py").write_text("import nasearch.c\ndef f():\n    import nasearch.a\n")
    (tmp_path / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import nasearch.b\nfrom nasearch import a\n"
    )
    graph = _core_graph({f"nasearch.{n}": tmp_path / f"{n}.py" for n in "abc"})
    assert graph["nasearch.b"] == {"nasearch.c"}  # the function-local import is not an edge
    assert _local_imports(tmp_path / "b.py") == [(3, "nasearch")]  # ... and is refused on its own
    assert _cycles(graph) == [["nasearch.a", "nasearch.b", "nasearch.c"]]


def test_the_layering_test_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from nasearch.predictors.nnformer import NNFormer\n")
    assert any(_within(m, PLUGINS) for m, _ in _imports(bad, "nasearch.search.loop"))
