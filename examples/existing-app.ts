/**
 * An existing Elysia app that also receives Routee delivery reports: its own routes plus one
 * `.use(smsStatus(...))`, with a hook that keeps each message's status (a Map standing in for your
 * database). `onMessageStatus` gives the whole message's status, so a 2-part message is delivered
 * only once both parts are, and a late `Sent` never undoes `Delivered`. Runs on Bun and on Deno:
 *
 *   bun examples/existing-app.ts
 *   deno run --allow-net --allow-read --allow-write --allow-env examples/existing-app.ts
 *
 * (Deno: from a project where the package is installed, see the README.) PORT (0 picks a free
 * one, default 3000) and SMS_STATUS_LOG say where to listen and write; with FORWARD_URL and
 * WEBHOOK_SECRET (whsec_…) every entry is also sent there, durably (the `forward` option).
 */
import { Elysia } from "elysia";
import { smsStatus } from "elysia-sms-status";

/** Deno's one API used here, declared so that the file also type-checks without Deno's types. */
declare const Deno: {
  serve(
    options: { port: number; hostname?: string; onListen?(addr: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

const outcomes = new Map<string, string>(); // messageId -> outcome; your database here

export const app = new Elysia()
  .get("/", () => "my existing app")
  .get("/messages/:id/status", function messageStatus({ params, status }) {
    const outcome = outcomes.get(params.id);
    return outcome ? { messageId: params.id, outcome } : status(404, { error: "unknown message" });
  })
  .use(
    smsStatus({
      log: process.env.SMS_STATUS_LOG ?? "./sms-status.log",
      // Called only when a report changes the message's status: write it as it comes.
      onMessageStatus(message, previous, entry) {
        outcomes.set(message.messageId, message.outcome);
        if (message.outcome === "failed" && previous?.outcome !== "failed")
          console.warn(`SMS to ${entry.to} failed: ${message.status} (${message.detailedStatus ?? "no reason given"})`);
      },
      // Every entry POSTed to another service too, signed, at least once, even across a crash.
      ...(process.env.FORWARD_URL && { forward: { url: process.env.FORWARD_URL, secret: process.env.WEBHOOK_SECRET ?? "" } }),
    }),
  );

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 3000);
  const hostname = process.env.HOST ?? "127.0.0.1";
  if ("Bun" in globalThis) {
    app.listen({ port, hostname });
    console.log(`listening on port ${app.server!.port}`);
    process.on("SIGTERM", () => void app.stop().then(() => process.exit(0)));
  } else {
    // Elysia's web-standard adapter has no listen(): hand its fetch to the runtime's server.
    Deno.serve({ port, hostname, onListen: (addr) => console.log(`listening on port ${addr.port}`) }, app.fetch);
  }
}
