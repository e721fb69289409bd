/** The examples menu: every `examples/*.nn` that can run in a browser, with the data files they read. */

const sources = import.meta.glob<string>("../../examples/*.nn", { query: "?raw", import: "default", eager: true });
// Data files are separate chunks, fetched with the first preview or Train (not in the first paint).
const dataFiles = import.meta.glob<string>("../../examples/data/*.csv", { query: "?raw", import: "default" });

export interface Example {
  readonly name: string;
  readonly title: string;
  readonly source: string;
  readonly dataKind: string | undefined;
}

const title = (name: string): string => name.replace(/[-_]/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

export const EXAMPLES: readonly Example[] = Object.entries(sources)
  .map(([path, source]) => {
    const name = path.replace(/^.*\/([^/]+)\.nn$/, "$1");
    const train = /^\s*train\s+([a-z_]+)\s*\(/m.exec(source)?.[1];
    return { name, title: title(name), source, dataKind: train };
  })
  // IDX files (Fashion-MNIST) live on the disk of a machine, not in a page.
  .filter((e) => !/\bidx\s*\(/.test(e.source))
  .sort((a, b) => a.name.localeCompare(b.name));

/** Data files by their path relative to `examples/`, e.g. `data/iris.csv`. */
export async function exampleFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(Object.entries(dataFiles).map(async ([path, text]) => (out[path.replace(/^.*\/examples\//, "")] = await text())));
  return out;
}
