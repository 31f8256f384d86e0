// urql with the persisted exchange over GET: the query by its hash (a miss registers it), then again, revalidated;
// an error case comes back as a CombinedError with the server's code. Prints one JSON object.
import { createHash } from "node:crypto";
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { OrganizationBySlug, PagedEvents } from "./operations.js";
import { cachingFetch, type Exchange } from "./http.js";

const url = process.argv[2];
const log: Exchange[] = [];
const client = new Client({
  url,
  fetch: cachingFetch(log),
  requestPolicy: "network-only",
  exchanges: [
    persistedExchange({
      preferGetForPersistedQueries: true,
      generateHash: async (query) => createHash("sha256").update(query).digest("hex"),
    }),
    fetchExchange,
  ],
});

const first = await client.query(OrganizationBySlug, { slug: "osce" }).toPromise();
const afterFirst = log.length;
const second = await client.query(OrganizationBySlug, { slug: "osce" }).toPromise();
const failed = await client.query(PagedEvents, { first: 0 }).toPromise();
const refused = await client.query(PagedEvents, { first: "many" as unknown as number }).toPromise();
const codes = (error: typeof failed.error) => error?.graphQLErrors.map((e) => e.extensions?.code) ?? [];
console.log(
  JSON.stringify({
    first: { name: first.data?.organization?.name, error: first.error?.message ?? null, exchanges: log.slice(0, afterFirst) },
    second: { name: second.data?.organization?.name, exchanges: log.slice(afterFirst, afterFirst + 1) },
    fieldError: { codes: codes(failed.error), data: failed.data ?? null },
    requestError: { codes: codes(refused.error), data: refused.data ?? null, status: log[log.length - 1].status },
  }),
);
