/** Argument types the optimizers share (ranges and their wording written once). */
import { arg, type ArgSchema } from "../schema.js";

/** `lr`, with the optimizer's own default. */
export const lrArg = (dflt: number): ArgSchema => arg.number("lr", "learning rate", { min: 0, max: 10, minOpen: true, range: "a number > 0 and at most 10" }, dflt);

/** A decay rate or momentum in [0, 1). */
export const fractionArg = (name: string, doc: string, dflt: number): ArgSchema => arg.number(name, doc, { min: 0, max: 1, maxOpen: true, range: "at least 0 and less than 1" }, dflt);

/** A small positive number added to a denominator. */
export const epsilonArg = (dflt: number): ArgSchema => arg.number("epsilon", "added to the denominator", { min: 0, max: 1, minOpen: true, range: "a small number > 0" }, dflt);
