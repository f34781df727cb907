// slm-lsp for VS Code: starts `slm-lsp serve`, enables LSP inline completions (vscode-languageclient's
// proposed InlineCompletionItemFeature), maps the `slm.*` settings onto the server's settings, shows
// the model's state in the status bar and runs the workspace review into the Problems panel.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import { parseReview, toDiagnostics } from './review';

const SECTION = 'slm';
const EXT = 'slm-lsp';

/** `slm/status` notification payload. */
interface ModelStatus {
  state: 'loading' | 'ready' | 'failed' | 'generating' | string;
  model?: string;
  family?: string;
  message?: string;
  latency_ms?: number;
  cancelled?: boolean;
}

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let reviewDiagnostics: vscode.DiagnosticCollection;
const status: { state: string; model: string; latency?: number; enabled: boolean; message?: string } = { state: 'stopped', model: '', enabled: true };

/** The executable's full path, or undefined when it cannot be found (a name is looked up on PATH). */
export function findExecutable(command: string): string | undefined {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  const candidates = command.includes('/') || command.includes('\\')
    ? [command]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const c of candidates) {
    for (const ext of exts) {
      try {
        fs.accessSync(c + ext, fs.constants.X_OK);
        if (fs.statSync(c + ext).isFile()) {
          return c + ext;
        }
      } catch {
        // not this one
      }
    }
  }
  return undefined;
}

function serverCommand(): string[] {
  const cfg = vscode.workspace.getConfiguration(EXT);
  const cmd = cfg.get<string[]>('server.command', ['slm-lsp', 'serve']).filter((s) => s.length > 0);
  const log = cfg.get<string>('server.logFile', '');
  return log ? [...cmd, '--log-file', log] : cmd;
}

function renderStatus(): void {
  const name = status.model || 'slm';
  switch (status.state) {
    case 'loading':
      statusItem.text = '$(loading~spin) slm: loading model';
      break;
    case 'generating':
      statusItem.text = `$(loading~spin) ${name}`;
      break;
    case 'ready':
      statusItem.text = `$(sparkle) ${name}${status.latency !== undefined ? ` ${Math.round(status.latency)}ms` : ''}${status.enabled ? '' : ' (off)'}`;
      break;
    case 'failed':
      statusItem.text = '$(error) slm: model failed';
      break;
    case 'starting':
      statusItem.text = '$(loading~spin) slm: starting';
      break;
    default:
      statusItem.text = '$(circle-slash) slm: stopped';
  }
  statusItem.tooltip = [
    `slm-lsp: ${status.state}`,
    status.model ? `model: ${status.model}` : '',
    status.latency !== undefined ? `last completion: ${Math.round(status.latency)} ms` : '',
    status.message ?? '',
    'Click to turn completions off or on',
  ].filter(Boolean).join('\n');
  statusItem.show();
}

function onStatus(s: ModelStatus): void {
  status.state = s.state;
  if (s.model) {
    status.model = s.model;
  }
  if (typeof s.latency_ms === 'number') {
    status.latency = s.latency_ms;
  }
  if (s.message !== undefined) {
    status.message = s.message;
  }
  renderStatus();
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const cmd = serverCommand();
  if (cmd.length === 0 || !findExecutable(cmd[0])) {
    status.state = 'stopped';
    renderStatus();
    const choice = await vscode.window.showErrorMessage(
      `slm-lsp: the server executable "${cmd[0] ?? ''}" was not found. Install it from a slm-lsp checkout with \`pip install .\` (or \`pipx install .\`), or set "slm-lsp.server.command" to its full path.`,
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'slm-lsp.server.command');
    }
    return;
  }
  const serverOptions: ServerOptions = { command: cmd[0], args: cmd.slice(1), transport: TransportKind.stdio };
  const languages = vscode.workspace.getConfiguration(EXT).get<string[]>('server.languages', []);
  const clientOptions: LanguageClientOptions = {
    documentSelector: languages.flatMap((language) => [{ scheme: 'file', language }, { scheme: 'untitled', language }]),
    synchronize: { configurationSection: SECTION },
    initializationOptions: { [SECTION]: JSON.parse(JSON.stringify(vscode.workspace.getConfiguration(SECTION))) as unknown },
    outputChannel: output,
    middleware: {
      // per-language enable: "[markdown]": { "slm.completion.enabled": false }
      provideInlineCompletionItems: (document, position, ctx, token, next) => {
        if (!status.enabled || !vscode.workspace.getConfiguration(SECTION, document).get<boolean>('completion.enabled', true)) {
          return null;
        }
        return next(document, position, ctx, token);
      },
      provideCompletionItem: (document, position, ctx, token, next) => {
        // VS Code shows the model's text inline; completion items would repeat it
        return vscode.workspace.getConfiguration(SECTION, document).get<boolean>('completion.enabled', true) ? next(document, position, ctx, token) : null;
      },
    },
  };
  client = new LanguageClient(EXT, 'slm-lsp', serverOptions, clientOptions);
  client.registerProposedFeatures(); // textDocument/inlineCompletion
  context.subscriptions.push(
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        status.state = 'stopped';
        renderStatus();
      }
    }),
  );
  client.onNotification('slm/status', onStatus);
  status.state = 'starting';
  renderStatus();
  try {
    await client.start();
  } catch (err) {
    status.state = 'stopped';
    renderStatus();
    const choice = await vscode.window.showErrorMessage(
      `slm-lsp: the server failed to start (${cmd.join(' ')}): ${err instanceof Error ? err.message : String(err)}`,
      'Show Log',
    );
    if (choice === 'Show Log') {
      output.show();
    }
    client = undefined;
  }
}

async function serverCommandRequest(command: string): Promise<Record<string, unknown> | undefined> {
  if (!client || !client.isRunning()) {
    void vscode.window.showWarningMessage('slm-lsp: the server is not running');
    return undefined;
  }
  const result = (await client.sendRequest('workspace/executeCommand', { command, arguments: [] })) as Record<string, unknown> | null;
  if (result && typeof result.completions_enabled === 'boolean') {
    status.enabled = result.completions_enabled;
    renderStatus();
  }
  return result ?? undefined;
}

function reviewWorkspace(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('slm-lsp: open a folder to review it');
    return Promise.resolve();
  }
  const root = folder.uri.fsPath;
  const exe = serverCommand()[0];
  const found = exe ? findExecutable(exe) : undefined;
  if (!found) {
    void vscode.window.showErrorMessage(`slm-lsp: cannot review: the executable "${exe}" was not found`);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'slm-lsp: reviewing the workspace' }, () =>
      new Promise<void>((done) => {
        execFile(found, ['review', root, '--format', 'json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
          done();
          resolve();
          // exit status 1 means "findings at or above fail_on": still a successful review
          const code = error && typeof (error as NodeJS.ErrnoException).code === 'number' ? Number((error as NodeJS.ErrnoException).code) : error ? -1 : 0;
          if (code !== 0 && code !== 1) {
            output.appendLine(stderr);
            void vscode.window.showErrorMessage(`slm-lsp: the review failed: ${stderr.trim().split('\n').pop() ?? error?.message}`);
            return;
          }
          try {
            const report = parseReview(stdout);
            reviewDiagnostics.clear();
            for (const [file, diags] of toDiagnostics(report, root)) {
              reviewDiagnostics.set(vscode.Uri.file(file), diags);
            }
            output.appendLine(`review of ${root}: ${report.findings.length} finding(s)`);
            void vscode.window.showInformationMessage(`slm-lsp: the review found ${report.findings.length} finding(s); see the Problems panel`);
            if (report.findings.length > 0) {
              void vscode.commands.executeCommand('workbench.actions.view.problems');
            }
          } catch (err) {
            void vscode.window.showErrorMessage(`slm-lsp: ${err instanceof Error ? err.message : String(err)}`);
          }
        });
      }),
    );
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('slm-lsp');
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  statusItem.command = 'slm-lsp.toggle';
  reviewDiagnostics = vscode.languages.createDiagnosticCollection('slm-lsp-review');
  context.subscriptions.push(output, statusItem, reviewDiagnostics);

  context.subscriptions.push(
    vscode.commands.registerCommand('slm-lsp.toggle', () => serverCommandRequest('slm.toggle')),
    vscode.commands.registerCommand('slm-lsp.reloadModel', () => serverCommandRequest('slm.reloadModel')),
    vscode.commands.registerCommand('slm-lsp.showStatus', async () => {
      const s = await serverCommandRequest('slm.status');
      if (s) {
        output.appendLine(JSON.stringify(s, null, 2));
        output.show(true);
      }
    }),
    vscode.commands.registerCommand('slm-lsp.reviewWorkspace', reviewWorkspace),
    vscode.commands.registerCommand('slm-lsp.showLog', () => output.show()),
    vscode.commands.registerCommand('slm-lsp.restart', async () => {
      if (client) {
        await client.stop();
        client = undefined;
      }
      await startClient(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${EXT}.server`)) {
        await vscode.commands.executeCommand('slm-lsp.restart');
      }
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
