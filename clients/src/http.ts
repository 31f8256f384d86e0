// fetch with a small HTTP cache, as a browser has: it keeps GET answers with their ETag and revalidates them
// with If-None-Match (a 304 is answered from the kept body). Every exchange is logged for the test to read.
// `documentId` and `query`: whether the request sent a trusted document's ID, or a query's text.
export type Exchange = {
  method: string;
  status: number;
  hashed: boolean;
  bytes: number;
  ifNoneMatch: boolean;
  documentId: boolean;
  query: boolean;
};

function sent(url: string, method: string, body: unknown): { documentId: boolean; query: boolean } {
  if (method === "GET") {
    const params = new URL(url).searchParams;
    return { documentId: params.has("documentId"), query: params.has("query") };
  }
  const parsed = typeof body === "string" ? (JSON.parse(body) as Record<string, unknown>) : {};
  return { documentId: "documentId" in parsed, query: "query" in parsed };
}

export function cachingFetch(log: Exchange[]): typeof fetch {
  const kept = new Map<string, { etag: string; body: string; contentType: string }>();
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = new Headers(init?.headers);
    const entry = method === "GET" ? kept.get(url) : undefined;
    if (entry) headers.set("If-None-Match", entry.etag);
    const response = await fetch(url, { ...init, headers });
    const hashed = method === "GET" ? url.includes("sha256Hash") && !url.includes("query=") : false;
    const body = response.status === 304 && entry ? entry.body : await response.text();
    const request = sent(url, method, init?.body);
    log.push({ method, status: response.status, hashed, bytes: body.length, ifNoneMatch: Boolean(entry), ...request });
    const etag = response.headers.get("etag");
    const contentType = response.headers.get("content-type") ?? "application/json";
    if (method === "GET" && etag && response.status === 200) kept.set(url, { etag, body, contentType });
    if (response.status === 304 && entry) {
      return new Response(entry.body, { status: 200, headers: { "content-type": entry.contentType, etag: entry.etag } });
    }
    return new Response(body, { status: response.status, headers: response.headers });
  };
}
