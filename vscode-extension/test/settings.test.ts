// Unit tests of src/settings.ts (plain node: `npm test` = tsc + node --test, no VS Code needed).
import { strict as assert } from "node:assert";
import { test } from "node:test";
import {
  DOCUMENT_SELECTOR, SERVER_SETTING_KEYS, didChangeConfigurationSettings, expandPath, explicitValue, formatCommand,
  LAUNCH_SETTING_KEYS, importCheckCommand, resolveServerCommand, serverSettings,
} from "../src/settings";

test("serverSettings forwards only the settings the user set", () => {
  const values: Record<string, unknown> = { select: ["ORM001"], severity: { ORM005: "error" }, chunkSize: 500 };
  assert.deepEqual(serverSettings((k) => values[k]), { select: ["ORM001"], severity: { ORM005: "error" }, chunkSize: 500 });
  assert.deepEqual(serverSettings(() => undefined), {});
  assert.deepEqual(serverSettings(() => null), {});
});

test("serverSettings covers exactly the server's settings", () => {
  assert.deepEqual([...SERVER_SETTING_KEYS],
    ["select", "ignore", "severity", "chunkSize", "debounceMs", "run", "database", "oneOffSeverity"]);
  const all = serverSettings((k) => (k === "run" ? "onSave" : k === "debounceMs" ? 0 : k === "chunkSize" ? 1 :
    k === "severity" ? {} : k === "database" ? "mssql" : k === "oneOffSeverity" ? "hint" : []));
  assert.deepEqual(Object.keys(all), [...SERVER_SETTING_KEYS]);
  assert.equal(all.debounceMs, 0); // a falsy value the user set is still sent
  assert.equal(all.run, "onSave");
});

test("serverSettings normalises numbers and comma lists", () => {
  const values: Record<string, unknown> = { chunkSize: 250.7, debounceMs: 100, ignore: "ORM004, ORM002" };
  assert.deepEqual(serverSettings((k) => values[k]), { chunkSize: 250, debounceMs: 100, ignore: ["ORM004", "ORM002"] });
});

test("didChangeConfiguration carries the table under `ormlens`", () => {
  assert.deepEqual(didChangeConfigurationSettings({ ignore: ["ORM004"] }), { ormlens: { ignore: ["ORM004"] } });
});

test("explicitValue takes the most specific scope and ignores defaults", () => {
  assert.equal(explicitValue(undefined), undefined);
  assert.equal(explicitValue({}), undefined);
  assert.deepEqual(explicitValue({ globalValue: ["A"], workspaceValue: ["B"] }), ["B"]);
  assert.deepEqual(explicitValue({ globalValue: ["A"], workspaceFolderValue: ["C"], workspaceValue: ["B"] }), ["C"]);
  assert.equal(explicitValue({ globalValue: 0 }), 0);
});

test("ormlens.path overrides every interpreter", () => {
  assert.deepEqual(
    resolveServerCommand({ path: "/venv/bin/ormlens", interpreter: "/usr/bin/python3.12", pythonExtension: ["/x/python"] }),
    { command: "/venv/bin/ormlens", args: ["server"], source: "ormlens.path" });
});

test("ormlens.interpreter comes before the Python extension's interpreter", () => {
  assert.deepEqual(resolveServerCommand({ interpreter: "/opt/py/bin/python", pythonExtension: ["/x/python"] }), {
    command: "/opt/py/bin/python", args: ["-m", "ormlens", "server"], source: "ormlens.interpreter", python: ["/opt/py/bin/python"],
  });
  assert.deepEqual(resolveServerCommand({ interpreter: ["conda", "run", "-n", "dev", "python"] }), {
    command: "conda", args: ["run", "-n", "dev", "python", "-m", "ormlens", "server"], source: "ormlens.interpreter",
    python: ["conda", "run", "-n", "dev", "python"],
  });
});

test("the Python extension's interpreter, else python3", () => {
  assert.deepEqual(resolveServerCommand({ path: "  ", interpreter: "", pythonExtension: ["/proj/.venv/bin/python"] }), {
    command: "/proj/.venv/bin/python", args: ["-m", "ormlens", "server"], source: "python extension", python: ["/proj/.venv/bin/python"],
  });
  assert.deepEqual(resolveServerCommand({ interpreter: [], pythonExtension: [] }), {
    command: "python3", args: ["-m", "ormlens", "server"], source: "default", python: ["python3"],
  });
  assert.deepEqual(resolveServerCommand({}).command, "python3");
});

test("the import check runs in the same interpreter", () => {
  assert.deepEqual(importCheckCommand(["/v/bin/python"]), { command: "/v/bin/python", args: ["-c", "import ormlens"] });
  assert.deepEqual(importCheckCommand(["conda", "run", "python"]),
    { command: "conda", args: ["run", "python", "-c", "import ormlens"] });
});

test("a bundled extension runs its launcher on the selected interpreter, told the import strategy", () => {
  const launcher = "/ext/bundled/tool/ormlens_server.py";
  assert.deepEqual(resolveServerCommand({ pythonExtension: ["/proj/.venv/bin/python"], bundledServer: launcher }), {
    command: "/proj/.venv/bin/python", args: [launcher], source: "python extension", python: ["/proj/.venv/bin/python"],
    bundled: true, env: { ORMLENS_IMPORT_STRATEGY: "useBundled" },
  });
  assert.deepEqual(resolveServerCommand({ interpreter: ["conda", "run", "python"], bundledServer: launcher,
    importStrategy: "fromEnvironment" }), {
    command: "conda", args: ["run", "python", launcher], source: "ormlens.interpreter",
    python: ["conda", "run", "python"], bundled: true, env: { ORMLENS_IMPORT_STRATEGY: "fromEnvironment" },
  });
  // ormlens.path still wins; a change of the strategy restarts the server.
  assert.equal(resolveServerCommand({ path: "/bin/ormlens", bundledServer: launcher }).bundled, undefined);
  assert.ok((LAUNCH_SETTING_KEYS as readonly string[]).includes("importStrategy"));
});

test("expandPath", () => {
  const vars = { home: "/home/u", workspaceFolder: "/w", env: { VENV: "/v" } };
  assert.equal(expandPath("~/bin/ormlens", vars), "/home/u/bin/ormlens");
  assert.equal(expandPath("${workspaceFolder}/.venv/bin/ormlens", vars), "/w/.venv/bin/ormlens");
  assert.equal(expandPath("${env:VENV}/bin/python", vars), "/v/bin/python");
  assert.equal(expandPath("${userHome}/x", vars), "/home/u/x");
  assert.equal(expandPath(" /abs ", vars), "/abs");
});

test("formatCommand quotes words with spaces", () => {
  assert.equal(formatCommand("/a b/python", ["-m", "ormlens", "server"]), '"/a b/python" -m ormlens server');
});

test("the server is sent Python modules and saved template files", () => {
  assert.deepEqual(DOCUMENT_SELECTOR, [
    { scheme: "file", language: "python" }, { scheme: "untitled", language: "python" },
    { scheme: "file", language: "django-html" }, { scheme: "file", language: "jinja" },
    { scheme: "file", language: "jinja-html" }, { scheme: "file", language: "html" },
  ]);
});
