// Opens one tab per example query (the first active). A shared link (?q=...&variables=...) opens its
// query in a tab of its own, as on Strawberry's page; editing keeps the link in the address bar.
const config = JSON.parse(document.getElementById("graphiql-config").textContent);

const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  if (eq >= 0) {
    parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1).replace(/\+/g, " "));
  }
}

function updateURL(data) {
  Object.assign(parameters, data);
  const search = Object.keys(parameters)
    .filter(function (key) { return Boolean(parameters[key]); })
    .map(function (key) { return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]); })
    .join("&");
  history.replaceState(null, "", search ? "?" + search : window.location.pathname);
}

const headers = {};
const csrfToken = Cookies.get("csrftoken");
if (csrfToken) {
  headers["x-csrftoken"] = csrfToken;
}

const fetcher = GraphiQL.createFetcher({ url: window.location.href.split("?")[0], headers: headers });

const shared = parameters.q ? { query: parameters.q, variables: parameters.variables } : null;
const tabs = config.examples
  .filter(function (example) { return !shared || example.query !== shared.query; })
  .map(function (example) { return { query: example.query, variables: example.variables }; });
if (shared) {
  tabs.unshift(shared);
}

const explorer = GraphiQLPluginExplorer.explorerPlugin();

const logo = React.createElement(
  GraphiQL.Logo,
  null,
  React.createElement("a", { href: "/", title: "About this API" }, config.title),
);

const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(
  React.createElement(
    GraphiQL,
    {
      fetcher: fetcher,
      defaultTabs: tabs,
      query: tabs[0].query,
      variables: tabs[0].variables,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      onEditQuery: function (query) { updateURL({ q: query }); },
      onEditVariables: function (variables) { updateURL({ variables: variables }); },
    },
    logo,
  ),
);
