// Pure functions of the extension (no `vscode` import, so `npm test` runs them in plain node):
// which `ormlens.*` settings go to the server, and which command starts the server.

/** The `ormlens.*` settings the server reads (initializationOptions, didChangeConfiguration). */
export const SERVER_SETTING_KEYS = [
  "select", "ignore", "severity", "chunkSize", "debounceMs", "run", "database", "oneOffSeverity",
] as const;
export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];

/**
 * Template languages (VS Code's ids for Django and Jinja templates, and plain HTML): the server
 * checks a template through the views that render it. Saved files only: a view names a template by path.
 */
export const TEMPLATE_LANGUAGES = ["django-html", "jinja", "jinja-html", "html"] as const;

/** The documents the server is sent: Python modules (saved or not) and template files. */
export const DOCUMENT_SELECTOR: { scheme: string; language: string }[] = [
  { scheme: "file", language: "python" },
  { scheme: "untitled", language: "python" },
  ...TEMPLATE_LANGUAGES.map((language) => ({ scheme: "file", language })),
];

/** Settings that change how the server is started: a change restarts it. */
export const LAUNCH_SETTING_KEYS = ["path", "interpreter", "importStrategy"] as const;

/**
 * The table sent to the server, from `explicit(key)`: the value the user set for `ormlens.<key>`
 * (in any scope), or undefined when it is unset. Unset settings are left out, so that the
 * project's `[tool.ormlens]` table in pyproject.toml still applies to them.
 */
export function serverSettings(explicit: (key: ServerSettingKey) => unknown): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = explicit(key);
    if (value === undefined || value === null) continue;
    if ((key === "chunkSize" || key === "debounceMs") && typeof value === "number") {
      table[key] = Math.trunc(value);
    } else if ((key === "select" || key === "ignore") && typeof value === "string") {
      table[key] = value.split(/[\s,]+/).filter((s) => s.length > 0);
    } else {
      table[key] = value;
    }
  }
  return table;
}

/** The didChangeConfiguration payload: the server reads the `ormlens` section of it. */
export function didChangeConfigurationSettings(table: Record<string, unknown>): { ormlens: Record<string, unknown> } {
  return { ormlens: table };
}

/**
 * A value as VS Code's scopes report it (`WorkspaceConfiguration.inspect`): the most specific one
 * the user set, or undefined when only the default exists.
 */
export interface Inspected<T> {
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
  globalLanguageValue?: T;
  workspaceLanguageValue?: T;
  workspaceFolderLanguageValue?: T;
}
export function explicitValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  if (!inspected) return undefined;
  for (const v of [inspected.workspaceFolderLanguageValue, inspected.workspaceLanguageValue,
    inspected.globalLanguageValue, inspected.workspaceFolderValue, inspected.workspaceValue, inspected.globalValue]) {
    if (v !== undefined) return v;
  }
  return undefined;
}

/** `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path setting. */
export function expandPath(value: string, vars: { home?: string; workspaceFolder?: string; env?: Record<string, string | undefined> }): string {
  let out = value.trim();
  if (vars.home && (out === "~" || out.startsWith("~/"))) out = vars.home + out.slice(1);
  out = out.replace(/\$\{userHome\}/g, vars.home ?? "${userHome}");
  if (vars.workspaceFolder !== undefined) out = out.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder);
  out = out.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => vars.env?.[name] ?? "");
  return out;
}

export type CommandSource = "ormlens.path" | "ormlens.interpreter" | "python extension" | "default";

export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface ServerCommand {
  command: string;
  args: string[];
  /** The setting or fallback the command came from (shown in the output channel). */
  source: CommandSource;
  /** The interpreter (command + leading args) that runs the server; absent for ormlens.path. */
  python?: string[];
  /** It runs the ormlens bundled in the extension (bundled/tool/ormlens_server.py), which needs
   * nothing installed in the interpreter; otherwise the interpreter must be able to `import ormlens`. */
  bundled?: boolean;
  /** Environment variables the server process gets on top of the extension host's. */
  env?: Record<string, string>;
}

export interface CommandInputs {
  /** `ormlens.path`: an `ormlens` executable. */
  path?: string;
  /** `ormlens.interpreter`: a Python executable, or a command and its arguments. */
  interpreter?: string | string[];
  /** The Python extension's selected interpreter (its execCommand), when that extension is present. */
  pythonExtension?: string[];
  /** Used when nothing else is given: `python3`. */
  defaultPython?: string;
  /** The extension's bundled server launcher (bundled/tool/ormlens_server.py), when it carries a bundle. */
  bundledServer?: string;
  /** `ormlens.importStrategy` (default `useBundled`). */
  importStrategy?: ImportStrategy;
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * The command that starts the server: `ormlens.path` + `server` when set, otherwise the bundled
 * launcher (`<python> bundled/tool/ormlens_server.py`, told the import strategy) when the extension
 * carries a bundle, else `<python> -m ormlens server`; python from `ormlens.interpreter`, else the
 * Python extension's interpreter, else `python3`.
 */
export function resolveServerCommand(inputs: CommandInputs): ServerCommand {
  const path = (inputs.path ?? "").trim();
  if (path) return { command: path, args: ["server"], source: "ormlens.path" };
  const candidates: [string[], CommandSource][] = [
    [words(inputs.interpreter), "ormlens.interpreter"],
    [words(inputs.pythonExtension), "python extension"],
    [[inputs.defaultPython || "python3"], "default"],
  ];
  for (const [python, source] of candidates) {
    if (python.length === 0) continue;
    if (inputs.bundledServer) {
      return {
        command: python[0], args: [...python.slice(1), inputs.bundledServer], source, python, bundled: true,
        env: { ORMLENS_IMPORT_STRATEGY: inputs.importStrategy ?? "useBundled" },
      };
    }
    return { command: python[0], args: [...python.slice(1), "-m", "ormlens", "server"], source, python };
  }
  throw new Error("unreachable");
}

/** `python -c "import ormlens"`: exits 0 when ormlens is installed in that interpreter. */
export function importCheckCommand(python: string[]): { command: string; args: string[] } {
  return { command: python[0], args: [...python.slice(1), "-c", "import ormlens"] };
}

/** A command line for display (the output channel), quoting words with spaces. */
export function formatCommand(command: string, args: string[]): string {
  return [command, ...args].map((w) => (/[\s"']/.test(w) ? JSON.stringify(w) : w)).join(" ");
}
