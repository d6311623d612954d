/** The read API's OpenAPI 3 document (its own, apart from the callback routes'). */
import { LogEntry } from "../core/entry.ts";
import { VERSION } from "../core/version.ts";

const text = { type: "string" };
const param = (name: string, description: string, schema: object = text, where = "query") => ({ name, in: where, required: where === "path", description, schema });
const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { type: "object", properties: { error: text, message: text }, required: ["error", "message"] } } },
});
const json = (description: string, schema: object) => ({ description, content: { "application/json": { schema } } });
const window = [
  param("since", "received at or after: ISO 8601 or a duration back from now (24h)"),
  param("until", "received before: ISO 8601 or a duration back from now"),
  param("channel", "sms (default), viber, whatsapp, voice, verification, failover or all"),
];
const common = { 400: error("A query parameter is not valid"), 401: error("The API token is missing or wrong") };

export function apiDocument(prefix = "") {
  return {
    openapi: "3.0.3",
    info: {
      title: "sms-status read API",
      version: VERSION,
      description: "Message status by the project's rules, a page of messages, the report, and a live stream of entries.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { LogEntry },
    },
    security: [{ bearer: [] }],
    paths: {
      [`${prefix}/v1/messages/{id}`]: {
        get: {
          summary: "A message's status (its messageId, an smsId or a trackingId)",
          parameters: [param("id", "messageId, smsId or trackingId", text, "path"), param("reports", "1 to include every report received", { enum: ["1"] })],
          responses: {
            200: json("The message (null when only an inbound or campaign callback names the id) and, with reports=1, its reports", { type: "object", properties: { message: { type: "object", nullable: true }, reports: { type: "array", items: { $ref: "#/components/schemas/LogEntry" } } } }),
            404: error("No callback names this id"),
            501: error("The log is too large to scan per request: the database is needed"),
            ...common,
          },
        },
      },
      [`${prefix}/v1/messages`]: {
        get: {
          summary: "A page of messages, newest first (first seen), with an opaque cursor",
          parameters: [
            param("outcome", "delivered, failed or pending"),
            ...window,
            param("to", "the recipient, as the provider wrote it"),
            param("label", "the label"),
            param("campaign", "the campaign's tracking id"),
            param("limit", "1 to 500 (default 50)", { type: "integer" }),
            param("cursor", "the `next` of the previous page"),
          ],
          responses: {
            200: json("A page", { type: "object", properties: { messages: { type: "array", items: { type: "object" } }, next: { type: "string", nullable: true } } }),
            501: error("Listing needs the message database"),
            ...common,
          },
        },
      },
      [`${prefix}/v1/report`]: {
        get: {
          summary: "Messages by outcome, delivery rate, cost, failures and latency (as `sms-status report --json`)",
          parameters: [...window, param("by", "status, country, operator, campaign, label or provider")],
          responses: { 200: json("The report", { type: "object" }), 501: error("The log is too large to scan per request"), ...common },
        },
      },
      [`${prefix}/v1/series`]: {
        get: {
          summary: "Status callbacks per minute, hour or day: received, delivered, failed, pending, failures by detailed status",
          parameters: [...window.map((p) => (p.name === "since" ? { ...p, required: true } : p)), param("step", "minute, hour (default) or day; at most 10080 buckets")],
          responses: { 200: json("Buckets in time order (only those with callbacks)", { type: "object" }), 501: error("The log is too large to scan per request"), ...common },
        },
      },
      [`${prefix}/v1/health`]: {
        get: {
          summary: "Live figures: log or database writable, duplicate keys held, answer times against the 2 s budget, messages final, forwarding lag",
          responses: { 200: json("The figures", { type: "object" }), 501: error("Served by the standalone server only"), ...common },
        },
      },
      [`${prefix}/v1/events`]: {
        get: {
          summary: "Server-Sent Events: every entry as it is written; resume with Last-Event-ID",
          parameters: [param("outcome", "only this outcome"), param("channel", "only this channel (default all)"), param("kind", "only this kind"), param("Last-Event-ID", "resume after this event", text, "header")],
          responses: { 200: { description: "text/event-stream; `event: entry`, `data:` the log entry, `id:` its place in the log" }, 501: error("No log to follow"), ...common },
        },
      },
    },
  };
}
