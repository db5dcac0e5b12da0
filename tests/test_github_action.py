"""The repository's GitHub Action (action.yml, issue #16): a composite action that installs
ormlens, writes a SARIF report for code scanning, uploads it, and annotates the run failing on
findings. GitHub itself is not reachable here: the test reads the action as GitHub would (inputs,
defaults, `${{ }}` expressions) and runs each of its shell steps, in order, with bash, on a little
project, in a fresh virtual environment (the install step installs this checkout into it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

REPOSITORY = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).resolve().parent / "sarif-schema-2.1.0.json"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")

MODELS = '''\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Payment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, nullable=False)


def payments_per_user(user_ids: list[int]):
    return [Payment.query.filter_by(user_id=uid).all() for uid in user_ids]
'''


def evaluate(text: str, context: dict[str, str]) -> str:
    """`${{ inputs.x }}`, `${{ github.action_path }}`, `${{ inputs.x == 'v' }}` as GitHub evaluates
    them (what this action uses)."""
    def value(match: re.Match) -> str:
        expression = match.group(1)
        compared = re.fullmatch(r"(\S+) == '([^']*)'", expression)
        if compared and compared.group(1) in context:
            return "true" if context[compared.group(1)] == compared.group(2) else "false"
        if expression not in context:
            raise AssertionError(f"the test does not know the expression {expression!r}")
        return context[expression]
    return EXPRESSION.sub(value, text)


def test_the_action_reports_uploads_and_fails_on_findings(tmp_path: Path) -> None:
    action = yaml.safe_load((REPOSITORY / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: spec["default"] for name, spec in action["inputs"].items()}
    context = {f"inputs.{name}": value for name, value in inputs.items()}
    context["github.action_path"] = str(REPOSITORY)
    steps = action["runs"]["steps"]
    assert [step.get("uses", "").split("@")[0] for step in steps if "uses" in step] == [
        "actions/setup-python", "github/codeql-action/upload-sarif"]
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert evaluate(upload["with"]["sarif_file"], context) == "ormlens.sarif"
    assert evaluate(upload["if"], context) == "true"  # uploads by default

    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (project / "app" / "models.py").write_text(MODELS)
    venv = tmp_path / "venv"  # what actions/setup-python gives: a Python of its own
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    environment.pop("PYTHONPATH", None)
    statuses, outputs = [], []
    for step in steps:
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        env = {**environment, **{key: evaluate(str(value), context) for key, value in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "-e", "-c", evaluate(step["run"], context)], cwd=project, env=env,
                              capture_output=True, text=True, timeout=900)
        statuses.append(done.returncode)
        outputs.append(done.stdout)
        assert done.returncode in (0, 1), done.stderr[-3000:]
    # install, SARIF (never fails), annotations (fail on findings)
    assert statuses == [0, 0, 1]
    sarif = json.loads((project / "ormlens.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "ORM001"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/models.py"
    [annotation] = outputs[2].splitlines()
    assert annotation.startswith("::warning title=ormlens (ORM001),file=app/models.py,line=12,")
