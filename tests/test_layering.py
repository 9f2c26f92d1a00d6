"""The import graph keeps its layers: contracts <- core <- plug-ins, with no arrow back up.

Every ``import`` in the package (function-local ones included) is read with ``ast``:
- the contracts layer (``nasearch.api``, ``nasearch.api.graph``, ``nasearch.api.errors``) imports nothing
  else of nasearch;
- the core (every other ``nasearch`` module) never imports a concrete space or predictor;
- spaces and predictors never import each other, and no module imports another package's private
  (``_name``) objects.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nasearch

ROOT = Path(nasearch.__file__).resolve().parent.parent
FOLDERS = {"nasearch": ROOT / "nasearch", "nasearch.search_spaces": ROOT / "search_spaces",
           "nasearch.predictors": ROOT / "predictors"}  # fmt: skip
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


def test_the_layering_test_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from nasearch.predictors.nnformer import NNFormer\n")
    assert any(_within(m, PLUGINS) for m, _ in _imports(bad, "nasearch.search.loop"))
