import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { docs } from "../../src/server/docs.ts";
import { smsStatus } from "../../src/index.ts";
import { createServer } from "../../src/server/server.ts";
import { json, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir();

async function openapiJson(app: { handle(request: Request): Promise<Response> }) {
  const res = await app.handle(new Request("http://localhost/openapi/json"));
  expect(res.status).toBe(200);
  return (await res.json()) as { paths: Record<string, Record<string, any>> };
}

describe("OpenAPI", () => {
  it("documents the route in a host app that uses @elysiajs/openapi", async () => {
    const app = new Elysia().use(openapi()).use(smsStatus({ log: join(dir, "host.log"), path: "/hooks/routee" }));
    const doc = await openapiJson(app);
    const op = doc.paths["/hooks/routee"]!.post;
    expect(op.summary).toBe("Receive a Routee SMS delivery report");
    const body = op.requestBody.content["application/json"].schema;
    expect(body.title).toBe("RouteeCallback");
    expect(Object.keys(body.properties)).toContain("messageId");
    expect(body.properties.status).toBeDefined();
    expect(Object.keys(op.responses).sort()).toEqual(["200", "400", "401", "403", "413", "422", "503"]);
    expect(op.responses["200"].content["application/json"].schema.anyOf.map((s: any) => s.title)).toEqual([
      "ReportAccepted",
      "DuplicateAccepted",
    ]);
    expect(op.responses["422"].content["application/json"].schema.required).toEqual(["error", "message"]);
    expect(doc.paths["/healthz"]!.get.responses["503"]).toBeDefined();
  });

  it("keeps the answers as they were (response schemas do not reshape them)", async () => {
    const app = new Elysia().use(openapi()).use(smsStatus({ log: join(dir, "answers.log"), bodyLimit: 1024 }));
    const ok = await app.handle(post("http://localhost/sms/status", routeeReport()));
    expect(await ok.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const bad = await app.handle(post("http://localhost/sms/status", "{"));
    expect([bad.status, (await json(bad)).error]).toEqual([400, "invalid_json"]);
    const big = await app.handle(post("http://localhost/sms/status", { message: "x".repeat(2000) }));
    expect([big.status, (await json(big)).error]).toEqual([413, "body_too_large"]);
    const wrong = await app.handle(post("http://localhost/sms/status", { messageId: "m", price: "abc" }));
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ error: "invalid_report", field: "price" });
  });
});

describe("the server's --docs flag", () => {
  it("is off by default and on with --docs or SMS_STATUS_DOCS", () => {
    expect(parseServeConfig([], {}).docs).toBe(false);
    expect(parseServeConfig(["--docs"], {}).docs).toBe(true);
    expect(parseServeConfig([], { SMS_STATUS_DOCS: "1" }).docs).toBe(true);
    expect(() => parseServeConfig([], { SMS_STATUS_DOCS: "maybe" })).toThrow(/SMS_STATUS_DOCS must be true or false/);
  });

  it("serves the document only when asked, and no viewer that loads a CDN script", async () => {
    const config = parseServeConfig(["--log", join(dir, "server.log")], {});
    const plain = createServer(config);
    expect((await plain.app.handle(new Request("http://localhost/openapi/json"))).status).toBe(404);
    await plain.store.close();
    const { app: withDocs, store } = createServer(config, undefined, docs());
    const doc = await openapiJson(withDocs);
    expect(doc.paths["/sms/status"]!.post).toBeDefined();
    expect(Object.keys(doc.paths["/sms/status"]!)).toEqual(["post"]); // the 405 catch-all is hidden
    // No viewer: the package's loads its script from a CDN, and the binary fetches nothing.
    const viewer = await withDocs.handle(new Request("http://localhost/openapi"));
    expect(viewer.status).toBe(404);
    expect(await viewer.text()).not.toContain("cdn.jsdelivr.net");
    await store.close();
  });
});
