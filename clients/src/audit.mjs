// The GraphQL-over-HTTP spec's own audit (graphql-http's serverAudits) against a running server.
// Usage: node src/audit.mjs http://127.0.0.1:8000/graphql  -> one JSON line: counts and every non-ok audit.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) counts[result.status] += 1;
console.log(JSON.stringify({ counts, notOk: results.filter((r) => r.status !== "ok") }, null, 1));
