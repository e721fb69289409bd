/**
 * Diagnostics on the page: editor markers for the source's, and the list below the editor.
 * Problems of one kind in a data file (one per row) are listed once, with how many there are,
 * and a problem reported twice is listed once.
 */
import type { Diagnostic } from "../../../grammar/diagnostics.js";
import { listProblems } from "../problem-list.js";
import { monaco } from "./editor.js";
import { ui } from "./ui.js";

const SEVERITY = { error: monaco.MarkerSeverity.Error, warning: monaco.MarkerSeverity.Warning, info: monaco.MarkerSeverity.Info };

function toMarker(d: Diagnostic, uri: monaco.Uri): monaco.editor.IMarkerData {
  const s = d.span;
  const wide = s.endLine > s.line || s.endColumn > s.column;
  return {
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "nnc",
    message: d.hint === undefined ? d.message : `${d.message}\nhint: ${d.hint}`,
    startLineNumber: s.line,
    startColumn: s.column,
    endLineNumber: wide ? s.endLine : s.line,
    endColumn: wide ? s.endColumn : s.column + 1,
    relatedInformation: (d.related ?? []).map((r) => ({
      resource: uri,
      message: r.message,
      startLineNumber: r.span.line,
      startColumn: r.span.column,
      endLineNumber: r.span.endLine,
      endColumn: Math.max(r.span.endColumn, r.span.column + 1),
    })),
  };
}

/** Shows `all` as markers (those in the source) and as the list; a click on a row goes to its line. */
export function showProblems(editor: monaco.editor.IStandaloneCodeEditor, all: readonly Diagnostic[], hintFor?: (d: Diagnostic) => string | undefined): void {
  const model = editor.getModel()!;
  monaco.editor.setModelMarkers(model, "nnc", all.filter((d) => d.file === undefined).map((d) => toMarker(d, model.uri)));
  ui.problems.replaceChildren(
    ...listProblems(all).map(({ d, more }) => {
      const row = document.createElement("div");
      row.className = "problem";
      row.dataset["code"] = d.code;
      row.dataset["line"] = String(d.span.line);
      const where = `${d.file ?? ""}${d.file ? ":" : ""}${d.span.line}:${d.span.column}`;
      const sev = document.createElement("span");
      sev.className = `sev-${d.severity}`;
      sev.textContent = `${d.severity} ${d.code}`;
      row.append(`${where} `, sev, `: ${d.message}`);
      if (more.length > 0) {
        const m = document.createElement("div");
        m.className = "more";
        m.textContent = `and ${more.length} more like it (line${more.length === 1 ? "" : "s"} ${more.slice(0, 5).join(", ")}${more.length > 5 ? ", …" : ""})`;
        row.append(m);
      }
      const hint = hintFor?.(d) ?? d.hint;
      if (hint !== undefined) {
        const h = document.createElement("div");
        h.className = "hint";
        h.textContent = `hint: ${hint}`;
        row.append(h);
      }
      if (d.file === undefined) {
        row.tabIndex = 0;
        row.setAttribute("role", "button");
        const go = (): void => {
          editor.setPosition({ lineNumber: d.span.line, column: d.span.column });
          editor.revealLineInCenter(d.span.line);
          editor.focus();
        };
        row.onclick = go;
        row.onkeydown = (e) => {
          if (e.key === "Enter") go();
        };
      }
      return row;
    }),
  );
}
