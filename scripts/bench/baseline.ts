/**
 * The two baselines of `npm run bench`, each a bare Bun.serve on a free loopback port:
 *   floor   - reads the body, JSON.parses it, answers 200 (the least any receiver must do);
 *   ceiling - answers 200 without reading the body (what the transport alone allows).
 * Prints the port on stdout.
 */
const mode = process.argv[2];
if (mode !== "floor" && mode !== "ceiling") {
  console.error("usage: bun scripts/bench/baseline.ts floor|ceiling");
  process.exit(2);
}
const BODY = JSON.stringify({ ok: true });
const HEADERS = { "content-type": "application/json; charset=utf-8" };
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch:
    mode === "floor"
      ? async function floor(request) {
          JSON.parse(await request.text());
          return new Response(BODY, { headers: HEADERS });
        }
      : function ceiling() {
          return new Response(BODY, { headers: HEADERS });
        },
});
console.log(server.port);
process.on("SIGTERM", () => process.exit(0));
