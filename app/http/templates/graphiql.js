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

// The query editor takes two thirds of the width (GraphiQL's default is half, which cut the examples'
// lines), until the person drags the bar: GraphiQL keeps that choice under the same key.
if (window.localStorage && localStorage.getItem("graphiql:editorFlex") === null) {
  localStorage.setItem("graphiql:editorFlex", "2");
}

// The title on one line: in full where there is room, short on a narrow screen (CSS picks one).
const logo = React.createElement(
  GraphiQL.Logo,
  null,
  React.createElement(
    "a",
    { href: "/", title: config.title + ": about this API" },
    React.createElement("span", { className: "graphiql-logo-long" }, config.title),
    React.createElement("span", { className: "graphiql-logo-short" }, config.shortTitle),
  ),
);

// Long lines (the examples' first comment, a long filter) wrap instead of running past the editor's edge;
// the active tab is scrolled into view when the tabs overflow. GraphiQL's CodeMirror 5 editors keep their
// instance on their element.
function tidy() {
  document.querySelectorAll(".graphiql-editor .CodeMirror").forEach(function (element) {
    if (element.CodeMirror && !element.CodeMirror.getOption("lineWrapping")) {
      element.CodeMirror.setOption("lineWrapping", true);
    }
  });
  const active = document.querySelector(".graphiql-tab-active");
  if (active && active !== tidy.active) {
    tidy.active = active;
    active.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}
new MutationObserver(tidy).observe(document.getElementById("graphiql"), {
  childList: true,
  subtree: true,
  attributes: true,
  attributeFilter: ["class"],
});

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
