/**
 * Indents emitted code by brace depth (two spaces), so the module reads well even without
 * prettier (in-process compiles skip prettier to stay fast). Emitted lines never put a
 * brace inside a string or comment except the sanitized ones, which contain none that
 * matter: `commentText` output may hold braces, so comment lines are not counted.
 */
export function indent(code: string): string {
  let depth = 0;
  const out: string[] = [];
  for (const raw of code.split("\n")) {
    const line = raw.trim();
    if (line === "") {
      out.push("");
      continue;
    }
    if (line.startsWith("//")) {
      out.push("  ".repeat(depth) + line);
      continue;
    }
    const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const opens = (code.match(/[{[(]/g) ?? []).length;
    const closes = (code.match(/[}\])]/g) ?? []).length;
    const leading = (code.match(/^[}\])]+/) ?? [""])[0].length;
    out.push("  ".repeat(Math.max(0, depth - leading)) + line);
    depth = Math.max(0, depth + opens - closes);
  }
  return out.join("\n");
}
