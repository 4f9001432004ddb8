"""The apps stand in layers, each importing only those below it, so a change has one place.

    newsroom (the project: settings, URLs, WSGI, shared utilities)
    articles   the content model and the words for announcing a change (articles.events)
    editorial  the desk: roles, workflow, the editing door, versions, the admin
    cdn        telling a CDN what changed
    delivery   the registry of public pages, the page cache, static publishing, tasks
    readers    the readers' pages, feeds and sitemaps

Every import counts, at the top of a module or inside a function: a loop hidden in a
function is still a loop. Migrations are left out (they name the apps of their dependencies).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["articles", "editorial", "cdn", "delivery", "readers"]
PROJECT = "newsroom"


def _modules(package):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imported_apps(path):
    """The project's apps that the module at `path` imports, with the line of each."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS or top == PROJECT:
                found.append((top, node.lineno))
    return found


def imports_between_apps():
    """{(importer, imported): ["file:line", ...]} across the project's packages."""
    edges = {}
    for package in [PROJECT, *LAYERS]:
        for path in _modules(package):
            for imported, line in _imported_apps(path):
                if imported != package:
                    edges.setdefault((package, imported), []).append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def test_each_app_imports_only_the_apps_below_it():
    upward = {
        f"{importer} -> {imported}": places
        for (importer, imported), places in imports_between_apps().items()
        if importer in LAYERS and imported in LAYERS and LAYERS.index(imported) > LAYERS.index(importer)
    }
    assert upward == {}


def test_the_project_package_imports_no_app():
    """Settings name apps by dotted strings; code under newsroom/ imports none of them."""
    reaching = {
        imported: places
        for (importer, imported), places in imports_between_apps().items()
        if importer == PROJECT
    }
    assert reaching == {}


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_module_imports_an_admin_module_of_another(app):
    """Admin classes are the desk's screens, not an API: nothing builds on them."""
    offending = []
    for path in _modules(app):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else None
            owner = module.split(".")[0] if module else None
            if module and module.endswith(".admin") and owner in LAYERS and owner != app:
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offending == []
