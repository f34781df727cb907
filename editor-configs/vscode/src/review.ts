// Turns `slm-lsp review PATH --format json` output into VS Code diagnostics, grouped by file.
import * as path from 'path';
import * as vscode from 'vscode';

/** One finding as `slm-lsp review --format json` prints it (lines and columns 1-based). */
export interface ReviewFinding {
  rule_id: string;
  path: string;
  start_line: number;
  start_column?: number;
  end_line?: number;
  end_column?: number;
  severity?: string;
  message: string;
  cwe?: string;
}

export interface ReviewReport {
  root?: string;
  findings: ReviewFinding[];
}

const SEVERITY: Record<string, vscode.DiagnosticSeverity> = {
  high: vscode.DiagnosticSeverity.Error,
  medium: vscode.DiagnosticSeverity.Warning,
  low: vscode.DiagnosticSeverity.Information,
};

/** Parse the review's stdout; throws with a readable message when it is not the expected JSON. */
export function parseReview(stdout: string): ReviewReport {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new Error('the review did not print JSON');
  }
  const report = data as Partial<ReviewReport>;
  if (!report || !Array.isArray(report.findings)) {
    throw new Error('the review printed JSON without a "findings" list');
  }
  return { root: report.root, findings: report.findings };
}

/** Diagnostics per absolute file path. */
export function toDiagnostics(report: ReviewReport, root: string): Map<string, vscode.Diagnostic[]> {
  const byFile = new Map<string, vscode.Diagnostic[]>();
  for (const f of report.findings) {
    const file = path.isAbsolute(f.path) ? f.path : path.join(report.root ?? root, f.path);
    const startLine = Math.max(0, (f.start_line ?? 1) - 1);
    const startCol = Math.max(0, (f.start_column ?? 1) - 1);
    const endLine = Math.max(startLine, (f.end_line ?? f.start_line ?? 1) - 1);
    const endCol = f.end_column !== undefined ? Math.max(0, f.end_column - 1) : startCol;
    const range = new vscode.Range(startLine, startCol, endLine, endCol);
    const diag = new vscode.Diagnostic(range, f.message, SEVERITY[f.severity ?? ''] ?? vscode.DiagnosticSeverity.Warning);
    diag.source = 'slm-lsp review';
    diag.code = f.rule_id;
    const list = byFile.get(file) ?? [];
    list.push(diag);
    byFile.set(file, list);
  }
  return byFile;
}
