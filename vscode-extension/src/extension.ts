import * as cp from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification, LanguageClient, LanguageClientOptions, ServerOptions,
} from "vscode-languageclient/node";
import {
  DOCUMENT_SELECTOR, LAUNCH_SETTING_KEYS, ServerCommand, didChangeConfigurationSettings, expandPath, explicitValue,
  ImportStrategy, formatCommand, importCheckCommand, resolveServerCommand, serverSettings,
} from "./settings";

const SECTION = "ormlens";
let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let extensionRoot = "";

// Status lines of the extension; the language client writes the server's log (window/logMessage,
// stderr) and, with `ormlens.trace.server`, the LSP traces to the same channel. vscode-languageclient
// 11 writes traces at the channel's Trace log level, so they show once the channel's level is Trace
// (the gear in the Output panel, or "Developer: Set Log Level...").
const log = {
  info: (message: string) => output.info(message),
  warn: (message: string) => output.warn(message),
  error: (message: string) => output.error(message),
};
let starting: Promise<void> | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for both: the extension's status lines and the server's log (window/logMessage).
  output = vscode.window.createOutputChannel("ormlens", { log: true });
  context.subscriptions.push(output);
  extensionRoot = context.extensionPath;
  // Which ormlens runs, on which interpreter, and whether it is up; a click shows the log.
  status = vscode.window.createStatusBarItem("ormlens.status", vscode.StatusBarAlignment.Right, 100);
  status.name = "ormlens";
  status.command = "ormlens.showOutput";
  context.subscriptions.push(status);
  context.subscriptions.push(vscode.commands.registerCommand("ormlens.restart", () => restart("ormlens.restart")));
  context.subscriptions.push(vscode.commands.registerCommand("ormlens.showOutput", () => output.show()));
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (!e.affectsConfiguration(SECTION)) return;
    if (LAUNCH_SETTING_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
      await restart("the server command changed");
      return;
    }
    if (client?.isRunning()) {
      const settings = didChangeConfigurationSettings(currentServerSettings());
      log.info(`settings sent: ${JSON.stringify(settings.ormlens)}`);
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings });
    }
  }));
  const py = vscode.extensions.getExtension("ms-python.python");
  if (py) {
    try {
      const api = await py.activate();
      const ev = api?.environments?.onDidChangeActiveEnvironmentPath ?? api?.settings?.onDidChangeExecutionDetails;
      if (typeof ev === "function") {
        context.subscriptions.push(ev(() => {
          if (!configured("path") && !configured("interpreter")) void restart("the selected Python interpreter changed");
        }));
      }
    } catch (err) {
      log.warn(`the Python extension did not activate: ${err}`);
    }
  }
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

function configured(key: string): boolean {
  const v: unknown = explicitValue(vscode.workspace.getConfiguration(SECTION).inspect<unknown>(key));
  return v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);
}

function currentServerSettings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  return serverSettings((key) => explicitValue(cfg.inspect(key)));
}

async function pythonExtensionInterpreter(): Promise<string[] | undefined> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const envPath = api?.environments?.getActiveEnvironmentPath?.(resource);
    if (envPath?.path) {
      const env = await api.environments.resolveEnvironment?.(envPath);
      const exe = env?.executable?.uri?.fsPath ?? envPath.path;
      if (exe) return [exe];
    }
    const details = await api?.settings?.getExecutionDetails?.(resource);
    if (Array.isArray(details?.execCommand) && details.execCommand.length > 0) return details.execCommand;
  } catch (err) {
    log.warn(`could not get the Python extension's interpreter: ${err}`);
  }
  return undefined;
}

/** The bundled launcher, when this build of the extension carries a bundle (scripts/bundle.py). */
function bundledServer(): string | undefined {
  const launcher = `${extensionRoot}/bundled/tool/ormlens_server.py`;
  const bundle = fs.existsSync(`${extensionRoot}/bundled/libs.zip`) || fs.existsSync(`${extensionRoot}/bundled/libs`);
  return bundle && fs.existsSync(launcher) ? launcher : undefined;
}

function showStatus(icon: string, text: string, tooltip: string): void {
  status.text = `$(${icon}) ${text}`;
  status.tooltip = tooltip;
  status.show();
}

async function serverCommand(): Promise<ServerCommand> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const vars = { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: process.env };
  const path = expandPath(cfg.get<string>("path", ""), vars);
  const rawInterp = cfg.get<string | string[]>("interpreter", "");
  const interpreter = Array.isArray(rawInterp) ? rawInterp.map((w) => expandPath(w, vars)) : expandPath(rawInterp ?? "", vars);
  const empty = Array.isArray(interpreter) ? interpreter.length === 0 : interpreter === "";
  const pythonExtension = path || !empty ? undefined : await pythonExtensionInterpreter();
  return resolveServerCommand({
    path, interpreter, pythonExtension, bundledServer: bundledServer(),
    importStrategy: cfg.get<ImportStrategy>("importStrategy", "useBundled"),
  });
}

function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    cp.execFile(command, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : null) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() || String(err ?? "") });
    });
  });
}

/** An interpreter that is to run `-m ormlens` (no bundle in this build) must have it: says so when it
 * has not. Nothing is installed into the user's environment. Returns true when usable. */
async function ensureInstalled(cmd: ServerCommand): Promise<boolean> {
  if (!cmd.python || cmd.bundled) return true;
  const check = importCheckCommand(cmd.python);
  const result = await run(check.command, check.args);
  if (result.code === 0) return true;
  const pythonName = formatCommand(cmd.python[0], cmd.python.slice(1));
  log.warn(`ormlens is not importable by ${pythonName} (${cmd.source}): ${result.out}`);
  const choice = await vscode.window.showErrorMessage(
    `ormlens is not installed in ${pythonName}, and this build of the extension has no bundled ormlens: ` +
    "set ormlens.path, or select an interpreter that has ormlens.", "Open Settings");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "ormlens.");
  }
  return false;
}

async function start(): Promise<void> {
  if (starting) return starting;
  starting = (async () => {
    const cmd = await serverCommand();
    const which = cmd.bundled ? `bundled (${cmd.env?.ORMLENS_IMPORT_STRATEGY})` : cmd.source;
    const on = cmd.python ? formatCommand(cmd.python[0], cmd.python.slice(1)) : cmd.command;
    log.info(`server command (${which}): ${formatCommand(cmd.command, cmd.args)}`);
    showStatus("sync~spin", "ormlens", `ormlens: starting (${which}) on ${on}`);
    if (!(await ensureInstalled(cmd))) {
      log.warn("server not started");
      showStatus("error", "ormlens", `ormlens: not started: ${on} has no ormlens (click for the log)`);
      return;
    }
    const serverOptions: ServerOptions = {
      // no `transport`: TransportKind.stdio would append `--stdio`, which `ormlens server` rejects
      command: cmd.command, args: cmd.args,
      options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: { ...process.env, ...cmd.env } },
    };
    const initializationOptions = currentServerSettings();
    log.info(`initializationOptions: ${JSON.stringify(initializationOptions)}`);
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: output,
      traceOutputChannel: output,
      initializationOptions,
    };
    // The trace level comes from `ormlens.trace.server` (the client reads `<id>.trace.server`).
    client = new LanguageClient(SECTION, "ormlens", serverOptions, clientOptions);
    try {
      await client.start();
      log.info("server started");
      const version = client.initializeResult?.serverInfo?.version ?? "";
      showStatus("check", "ormlens", `ormlens ${version}: ${which} on ${on} (click for the log)`);
    } catch (err) {
      log.error(`server failed to start: ${err}`);
      showStatus("error", "ormlens", `ormlens: the server failed to start (click for the log)`);
      void vscode.window.showErrorMessage(`ormlens server failed to start: ${err}`, "Show Output")
        .then((c) => c && output.show());
    }
  })();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (!c) return;
  try {
    await c.stop();
  } catch (err) {
    log.warn(`stopping the server: ${err}`);
  }
}

async function restart(reason: string): Promise<void> {
  log.info(`restarting the server: ${reason}`);
  await stop();
  await start();
}
