// Starts `graphdl lsp` for .dlg files and restarts it when `graphdl.server.path` changes. All the
// language smarts are in the server; this file only finds it and connects it over stdio.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

// VS Code does not expand variables in an extension's settings: `${workspaceFolder}` is expanded
// here, so that a project's virtual environment can be named without an absolute path.
function serverPath() {
  const configured = vscode.workspace.getConfiguration("graphdl").get("server.path") || "graphdl";
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder ? configured.replaceAll("${workspaceFolder}", folder) : configured;
}

async function start() {
  const server = { command: serverPath(), args: ["lsp"] };
  client = new LanguageClient(
    "graphdl",
    "graphdl",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "graphdl" }] },
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `graphdl: could not start "${server.command} lsp" (${error.message ?? error}). ` +
        "Install graphdl where VS Code finds it (pip install graphdl) or set graphdl.server.path.",
    );
  }
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop().catch(() => {}); // a server that never started has nothing to stop
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("graphdl.server.path")) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
