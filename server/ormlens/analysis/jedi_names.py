"""The one place ormlens asks jedi: does a library module that the project star-imports
(`from sqlalchemy.orm import *`) export a name? The project index reads the project's own files
only, so a name that comes from such an import is otherwise unknown, and the code that uses it
(`Mapped[int] = mapped_column(...)`, `select(User)`, `selectinload(...)`) would not be seen as
ORM code.

jedi reads source (and stubs); it never imports it. It is asked with a two-line script,
`from <module> import *` then the name, and `goto(follow_imports=True)` on the name, within a
jedi Project rooted at the project (its `.venv` or `venv` when there is one, so the project's own
libraries are the ones read). The answer depends only on the module and the name, so it is kept
for the life of the index: an edit never asks again, and names the index resolves never reach
jedi. A failure or a slow answer (over TIMEOUT seconds) counts as "not exported", is logged, and
stops questions about that module."""

from __future__ import annotations

import concurrent.futures
import logging
import os
from pathlib import Path

log = logging.getLogger("ormlens")

TIMEOUT = 10.0  # seconds for one answer; the first question about a library also reads it


class StarExports:
    def __init__(self, root: Path | None):
        self.root = root
        self._answers: dict[tuple[str, str], bool] = {}
        self._failed: set[str] = set()
        self._project = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.questions = 0  # how many times jedi was asked (the cost, for tests and measurement)

    def forked(self) -> None:
        """In a process forked from the one that made this (`check --jobs`): the jedi thread did not
        come along (a question would wait for it until the timeout); the answers did."""
        self._executor = None

    def exports(self, module: str, name: str) -> bool:
        """Does `from <module> import *` bind `name`?"""
        key = (module, name)
        answer = self._answers.get(key)
        if answer is not None:
            return answer
        answer = False
        if module not in self._failed and module and name.isidentifier():
            answer = self._ask(module, name)
        self._answers[key] = answer
        return answer

    def _ask(self, module: str, name: str) -> bool:
        if self._executor is None:
            # One thread: jedi is not thread-safe; a question that times out is abandoned there.
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ormlens-jedi")
        self.questions += 1
        future = self._executor.submit(self._goto, module, name)
        try:
            return future.result(timeout=TIMEOUT)
        except concurrent.futures.TimeoutError:
            log.warning("jedi took over %ss to resolve `%s` from `from %s import *`; names from that "
                        "module stay unknown", TIMEOUT, name, module)
        except Exception as exc:  # noqa: BLE001 - jedi failing must not stop the analysis
            log.warning("jedi could not resolve `%s` from `from %s import *` (%s: %s); names from that "
                        "module stay unknown", name, module, type(exc).__name__, exc)
        self._failed.add(module)
        return False

    def _goto(self, module: str, name: str) -> bool:
        import jedi

        if self._project is None:
            self._project = jedi.Project(self.root or Path.cwd(), environment_path=self._environment())
        base = self.root or Path.cwd()
        script = jedi.Script(code=f"from {module} import *\n{name}\n", path=base / "__ormlens_star__.py",
                             project=self._project)
        found = script.goto(2, 0, follow_imports=True)
        # A definition outside the two-line script: the module (or one it star-imports) binds it.
        return any(d.module_name not in ("__ormlens_star__", "builtins") for d in found)

    def _environment(self) -> str | None:
        """The project's virtual environment, when it has one at its root."""
        if self.root is None:
            return None
        for name in (".venv", "venv"):
            python = self.root / name / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            if python.is_file():
                return str(self.root / name)
        return None
