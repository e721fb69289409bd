/**
 * Formatting generated code with prettier, loaded on demand with `import()` so a page that
 * never formats does not pay for it (browser-safe: prettier's standalone build and plugins).
 * In-process loading skips formatting; `nnc compile` formats.
 */
export async function formatCode(code: string): Promise<string> {
  const [prettier, ts, estree] = await Promise.all([
    import("prettier/standalone"),
    import("prettier/plugins/typescript"),
    import("prettier/plugins/estree"),
  ]);
  return prettier.format(code, {
    parser: "typescript", // the JS target is valid TypeScript too
    plugins: [ts.default ?? ts, estree.default ?? estree],
    printWidth: 110,
  });
}
