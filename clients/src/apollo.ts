// Apollo Client 4 against the server: APQ over GET in three page loads (register; one hashed GET; a revalidation
// answered 304 from the HTTP cache), then paging a connection
// to its end with relayStylePagination. Prints one JSON object for tests/test_clients.py.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";
import { print } from "graphql";
import { OrganizationBySlug, OrganizationsPage } from "./operations.js";
import { cachingFetch, type Exchange } from "./http.js";

const uri = process.argv[2];
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function client(fetchImpl: typeof fetch) {
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri, fetch: fetchImpl }),
  );
  return new ApolloClient({
    link,
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { organizations: relayStylePagination(["orderBy"]) } } } }),
  });
}

const log: Exchange[] = [];
const browserCache = cachingFetch(log); // one browser, three page loads: the HTTP cache outlives the Apollo cache
const runs = [];
for (let run = 1; run <= 3; run++) {
  const before = log.length;
  const result = await client(browserCache).query({ query: OrganizationBySlug, variables: { slug: "escap" } });
  runs.push({ run, name: result.data?.organization?.name, exchanges: log.slice(before) });
}

// Paging to the end: the list grows page by page until it holds totalCount organizations.
const pager = client(fetch);
const observable = pager.watchQuery({ query: OrganizationsPage, variables: { first: 5 } });
let current = (await pager.query({ query: OrganizationsPage, variables: { first: 5 } })).data!;
const sizes = [current.organizations.edges.length];
await new Promise<void>((resolve) => {
  const subscription = observable.subscribe(() => {});
  (async () => {
    while (current.organizations.pageInfo.hasNextPage) {
      await observable.fetchMore({ variables: { after: current.organizations.pageInfo.endCursor } });
      current = pager.readQuery({ query: OrganizationsPage, variables: { first: 5 } })!;
      sizes.push(current.organizations.edges.length);
    }
    subscription.unsubscribe();
    resolve();
  })();
});
const ids = new Set(current.organizations.edges.map((edge) => edge.node.id));
console.log(
  JSON.stringify({
    runs,
    paging: { sizes, totalCount: current.organizations.totalCount, distinct: ids.size },
    query: print(OrganizationBySlug).length,
  }),
);
