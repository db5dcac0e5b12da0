"""Does the editor's incremental index answer what a fresh one does, on real modules?

Opens a real project's modules in a ProjectIndex the way the server does (`keep_units`: facts
function by function, an edited module's previous facts taken back where they still hold), then
makes random edits to them, each one followed by an analysis of every chosen module, and compares
the findings with those of a fresh index given the same texts. The edits are of the kinds typing
makes, inside function bodies and outside them: a character in a string, a comment appended, a
line duplicated or made `pass`, `self.` renamed, a loop inserted, an import added at the top.
Prints each mismatch (the step, the edit, the module, the findings only one side has) and the
count; exits 1 on a mismatch. The project comes from PyPI (pypi_sources.fetch, cached).

    .venv/bin/python benchmarks/incremental_equivalence.py            # flask-appbuilder, 40 edits
    .venv/bin/python benchmarks/incremental_equivalence.py --requirement ckan==2.12.0 \
        --modules ckan/logic/action/get.py,ckan/lib/dictization/model_dictize.py --edits 30 --seed 31
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
from pathlib import Path

from pypi_sources import fetch

from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings
from ormlens.discovery import project_modules
from ormlens.engine import analyze

DEFAULT = ("flask-appbuilder==5.3.0", "flask_appbuilder/security/sqla/manager.py,"
           "flask_appbuilder/models/sqla/interface.py,flask_appbuilder/security/sqla/models.py")
OPENERS = (":", ",", "(", "[", "{", "\\")


def edit(text: str, rng: random.Random) -> tuple[str, str]:
    """One random edit of `text` that still parses (else the text unchanged), and its kind."""
    lines = text.split("\n")
    tree = ast.parse(text)
    functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and f.body[0].lineno > f.lineno]
    kind = rng.choice(["string", "duplicate", "pass", "rename", "import", "loop", "comment", "comment"])
    function = rng.choice(functions)
    index = rng.randint(function.body[0].lineno, function.end_lineno) - 1
    line = lines[index]
    indent = " " * (len(line) - len(line.lstrip()))
    plain = line.strip() and not line.rstrip().endswith(OPENERS)
    if kind == "string" and '"' in line:
        quote = line.index('"')
        lines[index] = line[:quote + 1] + "z" + line[quote + 1:]
    elif kind == "duplicate" and plain:
        lines.insert(index, line)
    elif kind == "pass" and plain:
        lines[index] = indent + "pass"
    elif kind == "rename":
        lines[index] = line.replace("self.", "self_.", 1)
    elif kind == "import":
        first = next((n for n, x in enumerate(lines) if x.startswith(("import ", "from "))), 0)
        lines.insert(first, f"import os as os_alias_{rng.randint(0, 9)}")
    elif kind == "loop" and plain and not line.strip().startswith(("elif", "else", "except", "finally")):
        lines.insert(index, indent + "for _q in range(3): print(_q)")
    elif kind == "comment" and not line.rstrip().endswith("\\"):
        lines[index] = line + f"  # c{rng.randint(0, 99)}"
    new = "\n".join(lines)
    try:
        ast.parse(new)
    except SyntaxError:
        return text, f"{kind} (did not parse: not made)"
    return new, kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", default=DEFAULT[0])
    parser.add_argument("--modules", default=DEFAULT[1], help="comma-separated, relative to the project")
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = fetch(args.requirement)
    modules = [str((root / module).resolve()) for module in args.modules.split(",")]
    files = [str(path) for path in project_modules(root, root, (), True)[0]]
    settings = Settings()
    project = ProjectIndex(root, settings)
    project.keep_units = True
    project.load(files)
    texts = {module: Path(module).read_text(encoding="utf-8") for module in modules}
    for module in modules:
        analyze(project, module, settings)
    rng = random.Random(args.seed)
    mismatches = 0
    for step in range(args.edits):
        module = rng.choice(modules)
        texts[module], kind = edit(texts[module], rng)
        project.set_source(module, texts[module])
        fresh = ProjectIndex(root, settings)
        fresh.load(files)
        for other in modules:
            fresh.set_source(other, texts[other])
        for other in modules:
            mine, theirs = analyze(project, other, settings), analyze(fresh, other, settings)
            if mine != theirs:
                mismatches += 1
                a = {(f.code, f.span, f.message) for f in mine[0]}
                b = {(f.code, f.span, f.message) for f in theirs[0]}
                print(f"MISMATCH at edit {step} ({kind} in {Path(module).name}): {Path(other).name}")
                print(f"  only incremental: {sorted(a - b)[:3]}\n  only fresh: {sorted(b - a)[:3]}")
    print(f"{args.requirement}: {args.edits} edits of {len(modules)} modules, seed {args.seed}: "
          f"{mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
