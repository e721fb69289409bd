/**
 * Formatting generated code with prettier, loaded on demand with `import()` so a page that
 * never formats does not pay for it (browser-safe: prettier's standalone build and plugins).
 * In-process loading skips formatting; `nnc compile` formats. Linear in the module's size.
 */
export async function formatCode(code: string): Promise<string> {
  const [prettier, ts, estree] = await Promise.all([
    import("prettier/standalone"),
    import("prettier/plugins/typescript"),
    import("prettier/plugins/estree"),
  ]);
  return prettier.format(code, {
    parser: "typescript", // the JS target is valid TypeScript too
    // A file name tells prettier's TypeScript parser the language: without one it sniffs for
    // JSX with a regular expression that is quadratic in the text on large generated modules
    // (a 200-layer MLP: 61 s instead of a few). Nothing is read or written under this name.
    filepath: "module.ts",
    plugins: [ts.default ?? ts, estree.default ?? estree],
    printWidth: 110,
  });
}
