/**
 * The `.nn` editor: Monaco with the language of `nn-language.ts`, its colours, and a way out
 * for the keyboard (Tab indents; Ctrl+M switches Tab to moving the focus, as in VS Code).
 */
import * as monaco from "monaco-editor/editor";
import "../monaco-features.js";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import { LANGUAGE_ID, registerNn } from "../nn-language.js";
import { ui } from "./ui.js";

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = { getWorker: () => new EditorWorker() };

registerNn(monaco);
monaco.editor.defineTheme("nnc", {
  base: "vs",
  inherit: true,
  rules: [
    { token: "keyword", foreground: "1d4ed8", fontStyle: "bold" },
    { token: "keyword.setting", foreground: "0f766e" },
    { token: "type", foreground: "7c3aed", fontStyle: "bold" },
    { token: "predefined", foreground: "b45309" },
    { token: "constant", foreground: "be185d" },
    { token: "number", foreground: "047857" },
    { token: "string", foreground: "b91c1c" },
    { token: "comment", foreground: "64748b", fontStyle: "italic" },
    { token: "invalid", foreground: "dc2626", fontStyle: "underline" },
    { token: "identifier", foreground: "0f172a" },
  ],
  // Line numbers at 4.5:1 or more on white (WCAG AA).
  colors: { "editor.lineHighlightBackground": "#f1f5f9", "editorLineNumber.foreground": "#5b6474", "editorLineNumber.activeForeground": "#0f172a" },
});

export { monaco };

export function createEditor(value: string): monaco.editor.IStandaloneCodeEditor {
  const editor = monaco.editor.create(ui.editor, {
    value,
    language: LANGUAGE_ID,
    theme: "nnc",
    automaticLayout: true,
    minimap: { enabled: false },
    fontSize: 13.5,
    lineNumbersMinChars: 3,
    scrollBeyondLastLine: false,
    renderLineHighlight: "gutter",
    padding: { top: 8 },
    tabSize: 2,
    fixedOverflowWidgets: true,
    renderFinalNewline: "on",
    ariaLabel: "Source of the model (.nn). Tab indents; Ctrl+M makes Tab move the focus instead.",
  });
  // Ctrl+M: Tab moves the focus out of the editor (and back to indenting), said below the editor.
  let tabMoves = false;
  const showHint = (): void => {
    ui.tabHint.textContent = tabMoves ? "Tab moves the focus · Ctrl+M: Tab indents" : "Tab indents · Ctrl+M: Tab moves the focus";
  };
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyM, () => {
    tabMoves = !tabMoves;
    editor.updateOptions({ tabFocusMode: tabMoves });
    showHint();
  });
  showHint();
  return editor;
}
