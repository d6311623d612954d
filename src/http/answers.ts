/**
 * The JSON answers of the plugin's routes as TypeBox schemas. The routes declare them so that a
 * host app's OpenAPI document (`@elysiajs/openapi`) shows what Routee, or anyone, gets back.
 */
import { Type, type Static } from "@sinclair/typebox";
import { EntryKind } from "../core/entry.ts";
import { OUTCOMES } from "../core/outcome.ts";

export const ReportAccepted = Type.Object(
  {
    ok: Type.Literal(true),
    kind: EntryKind,
    outcome: Type.Union(OUTCOMES.map((o) => Type.Literal(o))),
  },
  { title: "ReportAccepted", description: "The report is in the log." },
);

export const DuplicateAccepted = Type.Object(
  { ok: Type.Literal(true), duplicate: Type.Literal(true) },
  { title: "DuplicateAccepted", description: "A retry of a report already in the log; not written again." },
);

const ERROR_FIELDS = {
  error: Type.String({ description: "A stable code: invalid_json, invalid_utf8, body_too_large, body_too_complex, invalid_report, log_unavailable" }),
  message: Type.String({ description: "What went wrong, for a person" }),
  field: Type.Optional(Type.String({ description: "The offending field of the report (`status.name`)" })),
};
const errorAnswer = (description: string) => Type.Object(ERROR_FIELDS, { title: "ErrorAnswer", description });

export const ErrorAnswer = errorAnswer("An error answer");
export type ErrorAnswer = Static<typeof ErrorAnswer>;

const HEALTH_FIELDS = {
  status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable")]),
  error: Type.Optional(Type.String({ description: "Why the last write failed (ENOSPC, EACCES, ...)" })),
};
const healthAnswer = (description: string) => Type.Object(HEALTH_FIELDS, { title: "HealthAnswer", description });

/** The `response` map of the report route, by status code. */
export const REPORT_RESPONSES = {
  200: Type.Union([ReportAccepted, DuplicateAccepted], { description: "Written (or a known retry)" }),
  400: errorAnswer("The body is not valid UTF-8 or not valid JSON (logged as `rejected`)"),
  401: errorAnswer("No valid token (`?token=` or `Authorization: Bearer`); nothing logged"),
  403: errorAnswer("The source address is not allowed; nothing logged"),
  413: errorAnswer("The body is over the size limit (not logged)"),
  422: errorAnswer("The body is not a report object, or nests or holds too much to parse (logged as `rejected`)"),
  503: errorAnswer("The log cannot be written; retry later (Retry-After)"),
};

/** The `response` map of the health route. */
export const HEALTH_RESPONSES = {
  200: healthAnswer("The log is writable"),
  503: healthAnswer("The last write failed"),
};

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** A JSON answer; every answer of this project has this shape. */
export function answer(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

// The hot path's answers differ only by kind and outcome: each is made once, as a Blob whose type
// becomes the Content-Type (a Response from a typed Blob is about 3x cheaper than with headers).
const jsonBlob = (body: unknown) => new Blob([JSON.stringify(body)], { type: JSON_HEADERS["content-type"] });
const ACCEPTED_BODIES = new Map<string, Blob>();
const DUPLICATE_BODY = jsonBlob({ ok: true, duplicate: true });

/** 200 for a stored callback: `{ok, kind, outcome}` of its (first) entry. */
export function accepted(kind: string, outcome: string): Response {
  const key = `${kind}/${outcome}`;
  let body = ACCEPTED_BODIES.get(key);
  if (body === undefined) {
    body = jsonBlob({ ok: true, kind, outcome });
    ACCEPTED_BODIES.set(key, body);
  }
  return new Response(body);
}

/** 200 for a retry of a callback already stored. */
export const duplicate = () => new Response(DUPLICATE_BODY);

export const unauthorized = () =>
  answer(401, { error: "unauthorized", message: "a valid token is required" }, { "www-authenticate": "Bearer" });
export const forbidden = () => answer(403, { error: "forbidden", message: "this address may not post reports" });
export const logUnavailable = () =>
  answer(503, { error: "log_unavailable", message: "the log cannot be written right now; retry later" }, { "retry-after": "30" });
