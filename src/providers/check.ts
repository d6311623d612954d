/**
 * What the form-, query- and JSON-bodied providers share: a compiled schema check that names the
 * offending field, field readers, and a constant-time comparison of signatures.
 */
import { timingSafeEqual } from "node:crypto";
import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { InvalidBody } from "./provider.ts";

/** A decimal number as a string (form values are strings; some JSON bodies send numbers too). */
export const DecimalText = Type.String({ pattern: "^\\s*-?(\\d+\\.?\\d*|\\.\\d+)\\s*$", description: "a decimal number" });

/** A field a provider may leave out. */
export const maybe = <T extends TSchema>(schema: T) => Type.Optional(schema);

/**
 * A checker for a flat callback object: null when the fields read have their types, else the first
 * wrong or missing field, named (`MessageStatus is required`, `TotalAmount must be a decimal number`).
 */
export function bodyCheck(schema: TObject): (body: unknown) => InvalidBody | null {
  const compiled = TypeCompiler.Compile(schema);
  return function invalidField(body) {
    if (compiled.Check(body)) return null;
    const error = compiled.Errors(body).First();
    const field = error?.path.split("/")[1];
    if (!field) return { message: "the body must be an object" };
    if (error!.value === undefined) return { field, message: `${field} is required` };
    const expected = (schema.properties[field] as TSchema | undefined)?.description ?? "a string";
    return { field, message: `${field} must be ${expected}` };
  };
}

export const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Do two signatures match? Constant time for equal lengths; a length says nothing about the secret. */
export function sameSignature(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every name=value pair of a query string or form body, repeated names included, decoded. */
export function formPairs(text: string): [string, string][] {
  return [...new URLSearchParams(text)];
}

/** Pairs grouped by name: what signatures over sorted parameters need. */
export function groupPairs(pairs: Iterable<[string, string]>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = groups.get(name);
    if (values) values.push(value);
    else groups.set(name, [value]);
  }
  return groups;
}

/** Names in code-unit order, as the providers' SDKs sort them (`Object.keys(...).sort()`). */
export const sortedNames = (groups: Map<string, string[]>) => [...groups.keys()].sort();


