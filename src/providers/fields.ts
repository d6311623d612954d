/**
 * Reading a provider's JSON body: typed values out of `unknown`, and a schema check that names the
 * offending field, for providers whose callbacks are checked against a TypeBox schema.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import type { ReceivedEntry } from "../core/entry.ts";
import { duplicateKey } from "../core/identity.ts";
import { UNKNOWN, type Classification } from "../core/outcome.ts";
import type { CallbackRequest, InvalidBody, Provider } from "./provider.ts";

export type Json = Record<string, unknown>;

export const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
export const obj = (v: unknown): Json | null => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null);
/** A finite number, or a numeric string (prices come as `"0.0051"`). */
export const num = (v: unknown): number | null => {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
};
/** A string, or a number written as one (ids and codes that some senders send as numbers). */
export const text = (v: unknown): string | null => (typeof v === "string" ? v : typeof v === "number" ? String(v) : null);

/**
 * A check of a body against `schema`, compiled once: null when it fits, else the innermost field
 * at fault (`results.0.status.name`) and what it must be (the schema's description there).
 */
export function schemaCheck(schema: TSchema): (body: unknown) => InvalidBody | null {
  const compiled = TypeCompiler.Compile(schema);
  return (body) => {
    if (compiled.Check(body)) return null;
    const first = compiled.Errors(body).First();
    const deepest = first ? innermost(first) : null;
    const field = deepest?.path.replace(/^\//, "").replaceAll("/", ".") ?? "";
    return field ? { field, message: `${field} must be ${deepest!.what}` } : { message: "the body must be a JSON object" };
  };
}

/** A nullable field fails as a union at its own path; its branches' errors say what inside it failed. */
function innermost(error: ValueError): { path: string; what: string } {
  let found = { path: error.path, what: error.schema.description ?? error.message };
  for (const branch of error.errors ?? [])
    for (const inner of branch) {
      const candidate = innermost(inner);
      if (candidate.path.length > found.path.length) found = candidate;
    }
  return found;
}

/** An optional, nullable field with what it must be (the 422's words). */
export const opt = <T extends TSchema>(schema: T, description: string) =>
  Type.Optional(Type.Union([schema, Type.Null()], { description }));

/** A status name looked up case-insensitively; a name not in the table is `unknown`, not final. */
export function lookupStatus(table: Record<string, Classification>, status: string | null): Classification {
  const key = status?.toLowerCase() ?? "";
  return Object.hasOwn(table, key) ? table[key]! : UNKNOWN;
}

/** A provider of JSON callbacks checked against `schema`, with a signature check when `verify` is given. */
export function jsonProvider(spec: {
  name: string;
  title: string;
  schema: TSchema;
  entries(body: Json, raw: string, receivedAt?: Date): ReceivedEntry[];
  verify?: ((request: CallbackRequest) => string | null | Promise<string | null>) | null;
  maxJsonStructure?: number;
}): Provider {
  const invalidField = schemaCheck(spec.schema);
  return {
    name: spec.name,
    title: spec.title,
    schema: spec.schema,
    read(body, raw, receivedAt) {
      const invalid = invalidField(body);
      return invalid ? { invalid } : { entries: spec.entries(body, raw, receivedAt) };
    },
    duplicateKey,
    ...(spec.verify ? { verify: spec.verify } : {}),
    ...(spec.maxJsonStructure ? { maxJsonStructure: spec.maxJsonStructure } : {}),
  };
}
