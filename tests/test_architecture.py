"""The shape docs/architecture.md describes, kept: the interpreter knows Python and names no ORM,
every ORM is a plugin of the registry, no module of the package is over about 1,000 lines, and the
package's modules import each other without a cycle (imports under TYPE_CHECKING and inside
functions count too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ormlens.analysis import orm
from ormlens.analysis.flow import Kind

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "ormlens"
INTERPRETER = ["interpreter.py", "statements.py", "expressions.py", "calls.py", "shapes.py"]


def test_the_interpreter_names_no_orm() -> None:
    for name in INTERPRETER:
        text = (PACKAGE / "analysis" / name).read_text()
        found = re.findall(r"(?i)django|sqlalchemy|flask|sqlmodel|peewee", text)
        assert not found, f"analysis/{name} names {sorted(set(found))}"


def test_the_rules_name_no_orm_outside_their_documentation() -> None:
    """What a rule says or fixes in an ORM's terms comes from that ORM's plugin (owner_of, plugin_for)."""
    for path in sorted((PACKAGE / "rules").glob("orm0*.py")):
        if path.name.endswith(".cases.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):  # the documentation is the docstrings: left out
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                    isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                body.pop(0)
        code = ast.unparse(tree)
        found = re.findall(r"(?i)django|sqlalchemy|sqlmodel|peewee", code)
        assert not found, f"rules/{path.name} names {sorted(set(found))}"


def test_every_orm_is_a_registered_plugin_with_the_rules_hooks() -> None:
    styles = [plugin.STYLE for plugin in orm.PLUGINS]
    assert styles == ["django", "sqlalchemy", "peewee"]
    for plugin in orm.PLUGINS:
        for hook in ("write_advice", "batch_advice", "lazy_load_advice", "declared_model"):
            assert callable(getattr(plugin, hook)), f"{plugin.STYLE} has no {hook}"
        assert orm.plugin_for(plugin.STYLE) is plugin
    # A plugin is asked only for the kinds of values it says it answers.
    assert [hook.__module__ for hook in orm.METHOD_CALL_BY_KIND[Kind.QUERY]] == [
        "ormlens.analysis.orm.django", "ormlens.analysis.orm.sqlalchemy", "ormlens.analysis.orm.peewee"]
    assert orm.METHOD_CALL_BY_KIND[Kind.INSTANCE] == ()
    assert [hook.__module__ for hook in orm.FUNCTION_CALL_BY_PACKAGE["peewee"]] == ["ormlens.analysis.orm.peewee"]


def test_no_module_is_over_about_a_thousand_lines() -> None:
    long = {str(path.relative_to(PACKAGE)): count for path in PACKAGE.rglob("*.py")
            if not path.name.endswith(".cases.py") and (count := len(path.read_text().splitlines())) > 1050}
    assert not long


def _imports(path: Path, module: str) -> set[str]:
    """The package's modules `module` (at `path`) imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ormlens"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ormlens"))
    return found - {module}


def test_no_import_cycle() -> None:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name.endswith(".cases.py"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}
    # A package's __init__ is run by importing any of its modules: not an edge back to the package.
    graph = {name: {m for m in edges if not name.startswith(m + ".")} for name, edges in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(other):] + [other]))
            if other not in state:
                visit(other)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
