"""MkDocs hook: let mkdocstrings read ``nasearch.predictors`` and ``nasearch.search_spaces`` from source.

They install from the top-level ``predictors/`` and ``search_spaces/`` folders (setup.cfg ``package_dir``),
which griffe's static loader cannot follow. Before the build this hook lays out the package as it
installs, as a copy of its Python sources in ``build/api_src`` (git-ignored; griffe resolves symbolic
links to their targets, so links would not do), and mkdocs.yml points mkdocstrings there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "api_src"
MAPPED = {"predictors": ROOT / "predictors", "search_spaces": ROOT / "search_spaces"}


_SERVING = [False]


def on_startup(command: str, **_: Any) -> None:
    """Stage the sources before any plug-in reads its configuration: mkdocstrings keeps only the
    ``paths`` that exist when it starts, so the folder must be there first."""
    _SERVING[0] = command == "serve"
    stage_sources()


def on_pre_build(config: Any, **_: Any) -> None:
    """Under ``mkdocs serve``, stage them again before each rebuild (an edited docstring shows)."""
    if _SERVING[0]:
        stage_sources()


def stage_sources() -> None:
    """Rebuild ``build/api_src/nasearch``: the sources of ``nasearch/`` with the mapped folders inside."""
    package = STAGE / "nasearch"
    if STAGE.exists():
        shutil.rmtree(STAGE)
    sources_only = shutil.ignore_patterns("__pycache__", "tables", "*.gz", "*.csv")
    shutil.copytree(ROOT / "nasearch", package, ignore=sources_only)
    for name, folder in MAPPED.items():
        shutil.copytree(folder, package / name, ignore=sources_only)


#: notebooks under docs/ rendered as manual pages (their code and prose; outputs are stripped in git)
NOTEBOOKS = ROOT / "docs" / "notebooks"


def on_files(files: Any, config: Any, **_: Any) -> Any:
    """Add a page ``notebooks/<name>.md`` for each ``docs/notebooks/<name>.ipynb``: its markdown cells
    as they are, its code cells as Python blocks, and a link to download the notebook itself."""
    from mkdocs.structure.files import File

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        uri = f"notebooks/{path.stem}.md"
        files.append(File.generated(config, uri, content=notebook_markdown(path)))
    return files


def notebook_markdown(path: Path) -> str:
    """A notebook as Markdown: prose cells verbatim, code cells fenced, a download link on top."""
    import json

    cells = json.loads(path.read_text())["cells"]
    parts = []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            parts.append(source)
            if i == 0:  # after the title
                parts.append(
                    f"*A notebook: [download {path.name}]({path.name}) and run it in Jupyter "
                    f'(`pip install -e ".[notebook]"` for widget progress bars); CI executes it on '
                    f"every change (`tests/test_notebook.py`).*"
                )
        elif cell["cell_type"] == "code":
            parts.append(f"```python\n{source}\n```")
    return "\n\n".join(parts) + "\n"
