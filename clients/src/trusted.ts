// Trusted documents (the GraphQL-over-HTTP persisted-documents appendix): the clients send `documentId` instead of
// `query`. codegen's client preset (`persistedDocuments`, codegen.ts) embeds each operation's SHA-256 in its
// generated document (`__meta__.hash`) and writes the manifest the server trusts. Apollo's and urql's persisted-query
// links read that hash (`documentHash`) and send it the APQ way (`extensions.persistedQuery.sha256Hash`, no query);
// `documentIdFetch` turns that request into a persisted-document one: `documentId: "sha256:<hex>"`, by GET or POST.
import type { DocumentNode } from "graphql";

/** The hash codegen embedded in a generated document, or undefined for a document written at run time. */
export function documentHash(document: DocumentNode): string | undefined {
  return (document as DocumentNode & { __meta__?: { hash?: string } }).__meta__?.hash;
}

function persistedHash(extensions: unknown): string | undefined {
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | null)?.persistedQuery?.sha256Hash;
  return typeof hash === "string" ? hash : undefined;
}

/** fetch sending a persisted query's hash as `documentId` (and no `query`); other requests pass unchanged. */
export function documentIdFetch(fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? "GET").toUpperCase();
    if (method === "GET") {
      const url = new URL(href);
      const extensions = url.searchParams.get("extensions");
      const hash = extensions ? persistedHash(JSON.parse(extensions)) : undefined;
      if (hash === undefined) return fetchImpl(input, init);
      const { persistedQuery: _sent, ...rest } = JSON.parse(extensions!) as Record<string, unknown>;
      url.searchParams.delete("query");
      url.searchParams.delete("extensions");
      if (Object.keys(rest).length) url.searchParams.set("extensions", JSON.stringify(rest));
      url.searchParams.set("documentId", `sha256:${hash}`);
      return fetchImpl(url.href, init);
    }
    if (typeof init?.body !== "string") return fetchImpl(input, init);
    const body = JSON.parse(init.body) as Record<string, unknown>;
    const hash = persistedHash(body.extensions);
    if (hash === undefined) return fetchImpl(input, init);
    const { query: _query, extensions, ...request } = body;
    const { persistedQuery: _sent, ...rest } = extensions as Record<string, unknown>;
    const sent = { ...request, documentId: `sha256:${hash}`, ...(Object.keys(rest).length ? { extensions: rest } : {}) };
    return fetchImpl(href, { ...init, body: JSON.stringify(sent) });
  };
}
