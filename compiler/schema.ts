/**
 * Typed argument schemas: the one description of a callable word's arguments — their kind,
 * range or allowed values, default (as a value) and docs. The checker binds arguments with it
 * (`check/checker.ts` `bindArgs`), the vocabulary documents it (`vocabulary.ts`, and from there
 * `docs/reference.md`, completion and hover), and a layer's or optimizer's `build` reads the
 * bound values. Layers (`layers/`) and optimizers (`optimizers/`) each declare theirs.
 */
import type { Span } from "../grammar/span.js";

/** What an argument accepts. */
export type ArgType =
  | {
      readonly kind: "number";
      readonly min: number;
      readonly max: number;
      readonly minOpen?: boolean;
      readonly maxOpen?: boolean;
      readonly int?: boolean;
      /** The range in words, for messages: "at least 0 and less than 1". */
      readonly range: string;
    }
  | { readonly kind: "bool" }
  | { readonly kind: "choice"; readonly values: readonly string[] }
  /** `3` → [3, 3]; `[3, 5]` → [3, 5]: a window, kernel or stride. */
  | { readonly kind: "pair" }
  | { readonly kind: "activation" }
  | { readonly kind: "initializer" }
  /** A free text or bare name (a layer's `name`). */
  | { readonly kind: "text" };

/** An activation as written: `relu`, `leaky_relu(alpha: 0.2)`. */
export interface ActivationValue {
  readonly kind: string;
  /** Slope for x < 0 (`leaky_relu`, default 0.01) or scale of the negative part (`elu`, default 1). */
  readonly alpha: number;
  readonly span: Span;
}

export type ArgValue = number | boolean | string | readonly [number, number] | ActivationValue;

export interface ArgSchema {
  readonly name: string;
  readonly doc: string;
  readonly type: ArgType;
  /** The value when the argument is not given; absent when it is required or derived. */
  readonly default?: ArgValue;
  /** The default in words when it is derived rather than a constant ("the window size"). */
  readonly defaultDoc?: string;
  /** For required arguments: what is missing, in words ("a unit count"). */
  readonly need?: string;
}

/** Argument builders, so a schema reads like its docs. */
export const arg = {
  number(name: string, doc: string, type: Omit<Extract<ArgType, { kind: "number" }>, "kind">, dflt?: number, defaultDoc?: string): ArgSchema {
    return withDefault({ name, doc, type: { kind: "number", ...type } }, dflt, defaultDoc);
  },
  int(name: string, doc: string, min: number, max: number, dflt?: number, defaultDoc?: string): ArgSchema {
    const range = max >= 1e9 ? (min === 0 ? "a whole number ≥ 0" : "a positive whole number") : `a whole number from ${min} to ${max}`;
    return withDefault({ name, doc, type: { kind: "number", min, max, int: true, range } }, dflt, defaultDoc);
  },
  bool(name: string, doc: string, dflt: boolean): ArgSchema {
    return { name, doc, type: { kind: "bool" }, default: dflt };
  },
  choice(name: string, doc: string, values: readonly string[], dflt: string): ArgSchema {
    return { name, doc, type: { kind: "choice", values }, default: dflt };
  },
  pair(name: string, doc: string, dflt?: number, defaultDoc?: string): ArgSchema {
    return withDefault({ name, doc, type: { kind: "pair" } }, dflt === undefined ? undefined : ([dflt, dflt] as const), defaultDoc);
  },
  activation(name: string, doc: string, dflt?: string): ArgSchema {
    return withDefault({ name, doc, type: { kind: "activation" } }, dflt);
  },
  initializer(name: string, doc: string, dflt?: string, defaultDoc?: string): ArgSchema {
    return withDefault({ name, doc, type: { kind: "initializer" } }, dflt, defaultDoc);
  },
  text(name: string, doc: string, defaultDoc: string): ArgSchema {
    return { name, doc, type: { kind: "text" }, defaultDoc };
  },
  /** Marks an argument required, with what its absence means in words. */
  required(a: ArgSchema, need: string): ArgSchema {
    const { default: _d, defaultDoc: _dd, ...rest } = a;
    return { ...rest, need };
  },
};

function withDefault(a: ArgSchema, dflt: ArgValue | undefined, defaultDoc?: string): ArgSchema {
  return { ...a, ...(dflt !== undefined ? { default: dflt } : {}), ...(defaultDoc !== undefined ? { defaultDoc } : {}) };
}

export function isRequired(a: ArgSchema): boolean {
  return a.need !== undefined;
}

/** The default as docs print it: `0.99`, `[2, 2]` as `2`, `true`, `"valid"` as `valid`. */
export function defaultText(a: ArgSchema): string | undefined {
  if (a.defaultDoc !== undefined) return a.defaultDoc;
  const d = a.default;
  if (d === undefined) return undefined;
  if (Array.isArray(d)) return d[0] === d[1] ? String(d[0]) : `[${d.join(", ")}]`;
  if (typeof d === "object") return (d as ActivationValue).kind;
  return typeof d === "number" && d !== 0 && Math.abs(d) < 1e-3 ? d.toExponential() : String(d);
}

/** Values bound to a schema's arguments, defaults filled in (undefined: absent and derived). */
export interface BoundArgs {
  /** Whether the file gave this argument. */
  given(name: string): boolean;
  /** Where its value was written (for messages), if it was given. */
  span(name: string): Span | undefined;
  /** Where the whole argument (`name: value`) was written, if it was given. */
  argSpan(name: string): Span | undefined;
  num(name: string): number;
  bool(name: string): boolean;
  str(name: string): string;
  pair(name: string): readonly [number, number];
  activation(name: string): ActivationValue;
  /** The value, or undefined when absent without a constant default. */
  maybe<T extends ArgValue>(name: string): T | undefined;
}

/** A `BoundArgs` over a map of values (what the checker builds, and tests). */
export function boundArgs(values: ReadonlyMap<string, ArgValue | undefined>, spans: ReadonlyMap<string, { readonly value: Span; readonly arg: Span }>): BoundArgs {
  const get = <T extends ArgValue>(name: string): T => {
    const v = values.get(name);
    if (v === undefined) throw new Error(`bug: argument ${name} has no value`);
    return v as T;
  };
  return {
    given: (name) => spans.has(name),
    span: (name) => spans.get(name)?.value,
    argSpan: (name) => spans.get(name)?.arg,
    num: (name) => get<number>(name),
    bool: (name) => get<boolean>(name),
    str: (name) => get<string>(name),
    pair: (name) => get<readonly [number, number]>(name),
    activation: (name) => get<ActivationValue>(name),
    maybe: <T extends ArgValue>(name: string) => values.get(name) as T | undefined,
  };
}
