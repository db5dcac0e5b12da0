"""The Peewee rule cases, run: every function of the ORM001/ORM002 Peewee cases files is called
against an in-process SQLite database with 3 and then 6 users (two tweets each), counting the
statements Peewee sends. A function holding an `# expect:` line must send more statements with
more rows (an N+1); every other function must send the same number (what the analysis says is
loaded with the rows is loaded). This checks the plugin's facts (what runs a query, what a join
or prefetch() loads) against Peewee itself."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

peewee = pytest.importorskip("peewee")

RULES = Path(__file__).resolve().parent.parent / "server" / "ormlens" / "rules"
CASES = [RULES / "orm001_n_plus_one_query.peewee.cases.py", RULES / "orm002_n_plus_one_lazy_load.peewee.cases.py"]
EXPECT = re.compile(r"#\s*expect:\s*ORM00[12]")


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flagged_functions(path: Path) -> dict[str, bool]:
    """Each top-level function: does its body hold an `# expect:` line?"""
    lines = path.read_text().splitlines()
    tree = ast.parse(path.read_text())
    return {node.name: any(EXPECT.search(line) for line in lines[node.lineno - 1:node.end_lineno])
            for node in tree.body if isinstance(node, ast.FunctionDef)}


def seeded(module, users: int):
    """A fresh database with `users` users (each in a team of their own) with two tweets each."""
    db = module.db
    db.init(":memory:")
    # The module's models, not its base model (whose only field is the implicit `id`).
    models = [cls for cls in vars(module).values() if inspect.isclass(cls) and issubclass(cls, peewee.Model)
              and cls is not peewee.Model and cls._meta.database is db
              and any(not isinstance(field, peewee.AutoField) for field in cls._meta.sorted_fields)]
    db.create_tables(models)
    by_name = {cls.__name__[2:]: cls for cls in models}
    for i in range(users):
        fields = {"name": f"u{i}"}
        if "Team" in by_name:
            fields["team"] = by_name["Team"].create(name=f"t{i}")
        user = by_name["User"].create(**fields)
        for j in range(2):
            by_name["Tweet"].create(user=user, body=f"b{i}{j}", **({"likes": j} if "likes" in by_name["Tweet"]._meta.fields else {}))
    return db


def statements(module, function, users: int) -> int:
    db = seeded(module, users)
    count = [0]
    execute = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        count[0] += 1
        return execute(sql, params, *args, **kwargs)

    db.execute_sql = counting
    try:
        function()
    finally:
        db.execute_sql = execute
        db.close()
    return count[0]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_flagged_functions_grow_with_the_rows_and_the_others_do_not(path: Path) -> None:
    module = load(path)
    flagged = flagged_functions(path)
    assert any(flagged.values()) and not all(flagged.values())
    for name, expected in flagged.items():
        function = getattr(module, name)
        small, large = statements(module, function, 3), statements(module, function, 6)
        if expected:
            assert large > small, f"{name}: flagged, but {small} statements for 3 users and {large} for 6"
        else:
            assert large == small, f"{name}: not flagged, but {small} statements for 3 users and {large} for 6"


def test_the_quick_fixes_give_the_same_results_in_a_constant_number_of_statements(tmp_path: Path) -> None:
    """ORM002's Peewee fixes (a LEFT OUTER join of the selected model, `.prefetch()`), applied to
    the cases file by the engine, then both versions run: each fixed function returns what it
    returned before, and no longer sends more statements with more rows."""
    from ormlens.analysis.project import ProjectIndex
    from ormlens.config import Settings
    from ormlens.engine import analyze
    from ormlens.fixes.registry import fix_text

    path = RULES / "orm002_n_plus_one_lazy_load.peewee.cases.py"
    findings, error = analyze(ProjectIndex(path.parent, Settings()), str(path), Settings())
    assert error is None
    fixed_text, fixes = fix_text(path.read_text(), findings, Settings())
    assert sorted(fix.kind for fix in fixes) == ["peewee_load", "peewee_load"]
    assert "PwTweet.select(PwTweet, PwUser).join(PwUser, JOIN.LEFT_OUTER).switch(PwTweet)" in fixed_text
    assert "for u in PwUser.select().prefetch(PwTweet):" in fixed_text
    fixed_path = tmp_path / "fixed_peewee_cases.py"
    fixed_path.write_text(fixed_text)
    before, after = load(path), load(fixed_path)
    changed = [name for name in flagged_functions(path)
               if ast.dump(ast.parse(inspect.getsource(getattr(before, name)))) !=
               ast.dump(ast.parse(inspect.getsource(getattr(after, name))))]
    assert changed == ["authors", "tweets_per_user"]
    for name in changed:
        for users in (3, 6):
            seeded(before, users)
            expected = getattr(before, name)()
            before.db.close()
            seeded(after, users)
            assert getattr(after, name)() == expected
            after.db.close()
        assert statements(after, getattr(after, name), 3) == statements(after, getattr(after, name), 6)


def test_a_model_s_own_primary_key_replaces_the_one_it_inherits() -> None:
    """`hash = CharField(primary_key=True)` under a base model (whose implicit `id` it inherits):
    the write advice names the key the table has."""
    from ormlens.analysis.project import ProjectIndex
    from ormlens.config import Settings
    from ormlens.engine import analyze

    path = RULES / "orm001_n_plus_one_query.peewee.cases.py"
    findings, _ = analyze(ProjectIndex(path.parent, Settings()), str(path), Settings())
    write = next(f for f in findings if "PqBlob.delete()" in f.message)
    assert "`PqBlob.delete().where(PqBlob.hash.in_(...)).execute()`" in write.message

