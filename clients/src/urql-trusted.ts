// urql against a server in only-trusted mode: the persisted exchange with `enforcePersistedQueries` (never the
// query text, even on a miss) and codegen's hashes (`generateHash`), and a fetch that sends `documentId`, by GET.
// An operation written at run time has no hash: urql sends its text, and the server refuses it. Prints one JSON
// object for tests/test_clients.py.
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { MongoliaEventsByYearAndKindDocument } from "./gql/graphql.js";
import { OrganizationBySlug } from "./operations.js";
import { cachingFetch, type Exchange } from "./http.js";
import { documentHash, documentIdFetch } from "./trusted.js";

const url = process.argv[2];
const log: Exchange[] = [];
const client = new Client({
  url,
  fetch: documentIdFetch(cachingFetch(log)),
  requestPolicy: "network-only",
  exchanges: [
    persistedExchange({
      enforcePersistedQueries: true,
      preferGetForPersistedQueries: true,
      generateHash: async (_query, document) => documentHash(document),
    }),
    fetchExchange,
  ],
});

const first = await client.query(OrganizationBySlug, { slug: "osce" }).toPromise();
const afterFirst = log.length;
const counted = await client.query(MongoliaEventsByYearAndKindDocument, { country: "MNG" }).toPromise();
const afterCounted = log.length;
const adHoc = await client.query("query AdHoc { organizations(first: 1) { nodes { id } } }", {}).toPromise();
const codes = (error: typeof adHoc.error) => error?.graphQLErrors.map((e) => e.extensions?.code) ?? [];
console.log(
  JSON.stringify({
    first: { name: first.data?.organization?.name ?? null, error: first.error?.message ?? null, exchanges: log.slice(0, afterFirst) },
    aggregate: { groups: counted.data?.aggregate.length ?? 0, error: counted.error?.message ?? null, exchanges: log.slice(afterFirst, afterCounted) },
    adHoc: { codes: codes(adHoc.error), exchanges: log.slice(afterCounted) },
  }),
);
