/**
 * The body Routee POSTs to a callback URL, as a TypeBox schema.
 *
 * Every known field is optional and nullable: the same route also receives campaign callbacks and
 * other objects, which are recorded rather than refused (see `classifyPayload`). What the schema
 * does enforce is that a known field, when present, has the type Routee documents, so a report
 * with `"price": "abc"` is answered 422 naming `price`. Unknown fields are kept
 * (`additionalProperties: true`), because Elysia would otherwise strip them before the handler.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import type { InvalidBody } from "../provider.ts";

/** Routee's docs show numbers both as JSON numbers and as strings; real payloads use numbers. */
export const NumericValue = Type.Union(
  [Type.Number(), Type.String({ pattern: "^\\s*-?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$" })],
  { description: "a number or a numeric string" },
);

const text = (description: string) => Type.String({ description });

function optional<T extends TSchema>(schema: T) {
  return Type.Optional(Type.Union([schema, Type.Null()], { description: schema.description }));
}

export const RouteeStatusReason = Type.Object(
  {
    detailedStatus: optional(text("a string")),
    description: optional(text("a string")),
  },
  { additionalProperties: true, description: "an object" },
);

export const RouteeStatus = Type.Object(
  {
    name: optional(text("a string")),
    reason: optional(RouteeStatusReason),
    updatedDate: optional(text("a string (ISO 8601 date)")),
  },
  { additionalProperties: true, description: "an object" },
);

/** One callback body: a per-SMS delivery report, a campaign callback, or anything else as an object. */
export const RouteeCallback = Type.Object(
  {
    messageId: optional(text("a string")),
    smsId: optional(text("a string")),
    campaignTrackingId: optional(text("a string")),
    part: optional(NumericValue),
    parts: optional(NumericValue),
    label: optional(text("a string")),
    to: optional(text("a string")),
    from: optional(text("a string")),
    country: optional(text("a string")),
    operator: optional(text("a string")),
    groups: optional(Type.Array(Type.String(), { description: "an array of strings" })),
    campaignName: optional(text("a string")),
    status: optional(RouteeStatus),
    message: optional(text("a string")),
    applicationName: optional(text("a string")),
    latency: optional(NumericValue),
    price: optional(NumericValue),
    direction: optional(text("a string")),
    originatingService: optional(text("a string")),
    // Campaign progress callbacks (kind `campaign`).
    trackingId: optional(text("a string")),
    campaignStatus: optional(text("a string")),
  },
  {
    additionalProperties: true,
    title: "RouteeCallback",
    description: "A Routee SMS delivery report (or campaign callback) as POSTed to the callback URL.",
  },
);
export type RouteeCallback = Static<typeof RouteeCallback>;

/** Compiled once, at import. */
const checkCallback = TypeCompiler.Compile(RouteeCallback);

/**
 * Null when the body's known fields have the types Routee documents; else what is wrong, naming
 * the innermost offending field (`status.name`).
 */
export function invalidField(body: unknown): InvalidBody | null {
  if (checkCallback.Check(body)) return null;
  const valueError = checkCallback.Errors(body).First();
  const path = valueError ? innermostPath(valueError) : "";
  const field = path.replace(/^\//, "").replaceAll("/", ".");
  return field ? { field, message: `${field} must be ${describeField(path)}` } : { message: "the body must be a JSON object" };
}

/** A nullable field fails as a union at its own path; the branch errors say what inside it failed. */
function innermostPath(error: ValueError): string {
  let path = error.path;
  for (const branch of error.errors ?? []) {
    for (const inner of branch) {
      const candidate = innermostPath(inner);
      if (candidate.length > path.length) path = candidate;
    }
  }
  return path;
}

/** Where a validation error points (`/status/name`), say what was expected there. */
function describeField(path: string): string {
  let schema: TSchema | undefined = RouteeCallback;
  for (const key of path.split("/").filter(Boolean)) {
    schema = unwrapNullable(schema)?.properties?.[key] as TSchema | undefined;
    if (!schema) return "a valid value";
  }
  return schema?.description ?? "a valid value";
}

function unwrapNullable(schema: TSchema | undefined): TSchema | undefined {
  if (schema?.anyOf) return (schema.anyOf as TSchema[]).find((s) => s.type === "object") ?? schema;
  return schema;
}
