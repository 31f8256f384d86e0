// The landing page's chart: Mongolia's multilateral engagements by year, one mark per item.
//
// It runs the `timeline` aggregate the page carries (app/examples/timeline-chart.graphql) against
// /graphql and draws an SVG: events (circles), memberships (squares) and chairmanships (diamonds)
// stacked above their year; an item known only to its decade sits over that decade with a bar
// spanning it; undated items stand apart on the right. Each mark opens the item in the explorer
// with its node query (citations and conflicts included); its tooltip quotes its first citation.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var STEP = 13; // px between stacked marks
  var SIZE = 5; // a mark's half width
  var TYPES = {
    Event: { label: "events", color: "#d6006c", shape: "circle" },
    Membership: { label: "memberships", color: "#1f77b4", shape: "square" },
    Chairmanship: { label: "chairmanships", color: "#e08a00", shape: "diamond" },
  };
  var FRAGMENTS = {
    Event:
      "... on Event { title kind date { edtf precision } endDate { edtf } location organization { name } " +
      "participants(first: 20) { nodes { code name } } ",
    Membership:
      "... on Membership { role status startDate { edtf precision } endDate { edtf } member { name } " +
      "organization { name } ",
    Chairmanship:
      "... on Chairmanship { title session startDate { edtf precision } endDate { edtf } chair { name } " +
      "organization { name } ",
  };
  var PROVENANCE =
    "citations { quote start end document { title } } " +
    "conflicts { field values { value kept citation { quote document { title } } } } }";

  function element(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attributes) {
    var node = element("text", Object.assign({ x: x, y: y }, attributes || {}), parent);
    node.textContent = content;
    return node;
  }

  function title(item) {
    if (item.__typename === "Membership") return (item.role || "member") + " of " + item.organization.name;
    return item.title;
  }

  function dateOf(item) {
    var date = item.__typename === "Event" ? item.date : item.startDate;
    return date ? date.edtf : "undated";
  }

  function explorerLink(item) {
    var query =
      "# " + title(item).replace(/\s+/g, " ") + " (" + dateOf(item) + ")\n" +
      "query Item {\n  node(id: " + JSON.stringify(item.id) + ") {\n    __typename\n    " +
      FRAGMENTS[item.__typename] + PROVENANCE + "\n  }\n}\n";
    return "/graphql?q=" + encodeURIComponent(query);
  }

  function tooltip(item, bucket) {
    var kind = item.__typename === "Event" ? item.kind.toLowerCase().replace(/_/g, " ") : item.__typename.toLowerCase();
    var lines = [dateOf(item) + " \u00b7 " + kind + ": " + title(item)];
    if (bucket.precision === "DECADE") lines.push("(known only to the decade: " + bucket.label + ")");
    var citation = item.citations && item.citations[0];
    if (citation) lines.push("\u201c" + citation.quote + "\u201d \u2014 " + citation.document.title);
    lines.push("Click to open it in the explorer.");
    return lines.join("\n");
  }

  function mark(parent, item, bucket, x, y) {
    var type = TYPES[item.__typename];
    var link = element("a", {
      href: explorerLink(item),
      class: "timeline-mark",
      "data-type": item.__typename,
      "data-key": bucket.key === null ? "" : bucket.key,
    }, parent);
    element("title", {}, link).textContent = tooltip(item, bucket);
    var style = { fill: type.color, stroke: "Canvas", "stroke-width": 1 };
    if (type.shape === "circle") {
      element("circle", Object.assign({ cx: x, cy: y, r: SIZE }, style), link);
    } else {
      var rect = element("rect", Object.assign({ x: x - SIZE, y: y - SIZE, width: 2 * SIZE, height: 2 * SIZE }, style), link);
      if (type.shape === "diamond") rect.setAttribute("transform", "rotate(45 " + x + " " + y + ")");
    }
  }

  var MIN_WIDTH = 640; // px: narrower screens scroll the chart sideways rather than shrink its labels
  var FONT = 12; // px, the axes' labels at their real size

  function niceStep(tallest) {
    if (tallest <= 8) return 2;
    if (tallest <= 25) return 5;
    return 10;
  }

  function draw(figure, timeline) {
    var buckets = timeline.buckets;
    var dated = buckets.filter(function (bucket) { return bucket.key !== null; });
    var undated = buckets.filter(function (bucket) { return bucket.key === null; });
    var undatedItems = undated.reduce(function (all, bucket) { return all.concat(bucket.items); }, []);
    var years = dated.map(function (bucket) { return parseInt(bucket.key.replace("X", "0"), 10); });
    var first = Math.floor(Math.min.apply(null, years.concat([2000])) / 10) * 10;
    var last = Math.max.apply(null, years.concat([first])) + 2;

    // Drawn at the figure's own width in pixels (not scaled), so the labels keep their size on any screen:
    // the legend above and the count axis on the left stay put, and the plot scrolls sideways when the
    // screen is narrower than MIN_WIDTH.
    var axisWidth = 48;
    var available = Math.floor((figure.clientWidth || 960) - axisWidth);
    var width = Math.max(available, MIN_WIDTH - axisWidth), left = 18, right = 16, top = 12, bottom = 34;
    var undatedColumns = 5;
    var undatedWidth = undatedItems.length ? undatedColumns * STEP + 40 : 0;
    var plotRight = width - right - undatedWidth;
    var x = function (year) { return left + ((year - first) / (last - first)) * (plotRight - left); };
    var tallest = Math.max.apply(null, buckets.map(function (bucket) {
      return bucket.key === null ? Math.ceil(bucket.items.length / undatedColumns) : bucket.items.length;
    }).concat([4]));
    var height = top + tallest * STEP + 8 + bottom;
    var axis = height - bottom;
    // The top edge of the n-th mark of a stack: where the count axis says n.
    var y = function (count) { return axis - 3 - count * STEP; };

    figure.textContent = "";

    // Legend: one entry per type, with its count.
    var counts = { Event: 0, Membership: 0, Chairmanship: 0 };
    buckets.forEach(function (bucket) {
      counts.Event += bucket.events;
      counts.Membership += bucket.memberships;
      counts.Chairmanship += bucket.chairmanships;
    });
    var legend = document.createElement("ul");
    legend.className = "timeline-legend-list";
    Object.keys(TYPES).forEach(function (name) {
      var type = TYPES[name];
      var entry = document.createElement("li");
      entry.className = "timeline-legend";
      var sample = element("svg", { width: 2 * SIZE + 4, height: 2 * SIZE + 4, "aria-hidden": "true" }, entry);
      var style = { fill: type.color };
      var middle = SIZE + 2;
      if (type.shape === "circle") element("circle", Object.assign({ cx: middle, cy: middle, r: SIZE }, style), sample);
      else {
        var rect = element("rect", Object.assign({ x: 2, y: 2, width: 2 * SIZE, height: 2 * SIZE }, style), sample);
        if (type.shape === "diamond") rect.setAttribute("transform", "rotate(45 " + middle + " " + middle + ") scale(0.8) translate(1.5 1.5)");
      }
      entry.appendChild(document.createTextNode(counts[name] + " " + type.label));
      legend.appendChild(entry);
    });
    figure.appendChild(legend);

    var body = document.createElement("div");
    body.className = "timeline-body";
    figure.appendChild(body);

    // The count axis: items a year, beside the plot (its gridlines are drawn across the plot below).
    var step = niceStep(tallest);
    var counted = element("svg", {
      width: axisWidth, height: height, class: "timeline-count-axis", role: "presentation",
    }, body);
    element("line", { x1: axisWidth - 0.5, x2: axisWidth - 0.5, y1: y(tallest), y2: axis, stroke: "currentColor", "stroke-opacity": 0.5 }, counted);
    for (var count = 0; count <= tallest; count += step) {
      element("line", { x1: axisWidth - 5, x2: axisWidth, y1: y(count), y2: y(count), stroke: "currentColor", "stroke-opacity": 0.5 }, counted);
      text(counted, axisWidth - 8, y(count) + 4, String(count), { "font-size": FONT, "text-anchor": "end", fill: "currentColor" });
    }
    var half = (y(tallest) + axis) / 2;
    text(counted, 12, half, "items a year", {
      "font-size": FONT, "text-anchor": "middle", fill: "currentColor", transform: "rotate(-90 12 " + half + ")",
    });

    var frame = document.createElement("div");
    frame.className = "timeline-frame";
    body.appendChild(frame);
    var svg = element("svg", {
      viewBox: "0 0 " + width + " " + height,
      width: width,
      height: height,
      role: "img",
      "aria-labelledby": "timeline-chart-title",
      class: "timeline-chart",
    }, frame);
    element("title", { id: "timeline-chart-title" }, svg).textContent =
      "Mongolia's multilateral engagements by year: " + timeline.totalCount + " items";
    for (var line = step; line <= tallest; line += step) {
      element("line", { x1: 0, x2: plotRight, y1: y(line), y2: y(line), stroke: "currentColor", "stroke-opacity": 0.12 }, svg);
    }

    // The time axis, with a tick and label per decade.
    element("line", { x1: 0, x2: plotRight, y1: axis, y2: axis, stroke: "currentColor", "stroke-opacity": 0.5 }, svg);
    for (var decade = first; decade <= last; decade += 10) {
      element("line", { x1: x(decade), x2: x(decade), y1: axis, y2: axis + 5, stroke: "currentColor", "stroke-opacity": 0.5 }, svg);
      text(svg, x(decade), axis + 20, String(decade), { "font-size": FONT, "text-anchor": "middle", fill: "currentColor" });
    }

    dated.forEach(function (bucket) {
      var decadeOnly = bucket.precision === "DECADE";
      var start = parseInt(bucket.key.replace("X", "0"), 10);
      var center = decadeOnly ? x(start + 5) : x(start + 0.5);
      if (decadeOnly) {
        element("rect", {
          x: x(start), y: axis - 4, width: x(start + 10) - x(start), height: 4,
          fill: "currentColor", "fill-opacity": 0.2, class: "timeline-decade",
        }, svg).appendChild(document.createElementNS(SVG, "title")).textContent =
          bucket.label + ": known only to the decade";
      }
      bucket.items.forEach(function (item, index) {
        mark(svg, item, bucket, center, axis - 4 - SIZE - 2 - index * STEP);
      });
    });

    if (undatedItems.length) {
      var columnLeft = plotRight + 32;
      element("line", { x1: plotRight + 16, x2: plotRight + 16, y1: top, y2: axis, stroke: "currentColor", "stroke-opacity": 0.25, "stroke-dasharray": "3 3" }, svg);
      text(svg, columnLeft + (undatedColumns * STEP) / 2 - STEP / 2, axis + 20, "undated", { "font-size": FONT, "text-anchor": "middle", fill: "currentColor" });
      undated.forEach(function (bucket) {
        bucket.items.forEach(function (item, index) {
          var column = index % undatedColumns, row = Math.floor(index / undatedColumns);
          mark(svg, item, bucket, columnLeft + column * STEP, axis - 4 - SIZE - 2 - row * STEP);
        });
      });
    }

    var shown = buckets.reduce(function (sum, bucket) { return sum + bucket.items.length; }, 0);
    var caption = document.createElement("figcaption");
    caption.textContent =
      timeline.totalCount + " engagements: every event Mongolia took part in, every membership and chairmanship it held" +
      (shown < timeline.totalCount ? " (" + shown + " shown)" : "") +
      ". Hover a mark for its source; click it to open the item, its citations and any conflicts between documents in the explorer.";
    figure.appendChild(caption);
    if (width > available) {
      // The sideways scroll starts at the present, where most marks are; the caption says so.
      frame.scrollLeft = width - available;
      caption.textContent += " Scroll the chart sideways for earlier years.";
    }
    figure.setAttribute("data-state", "drawn");
  }

  function fail(figure, message) {
    figure.textContent = "The timeline could not be loaded: " + message;
    figure.setAttribute("data-state", "failed");
  }

  var figure = document.getElementById("timeline-chart");
  if (!figure) return;
  // The query asks for up to 100 items a year. On a large knowledge base that can cost more than the
  // server allows (QUERY_TOO_COMPLEX, with the cost and the limit in its extensions): ask again for
  // fewer items a year, in proportion, until it fits; the caption then says how many are shown.
  function load(first) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        query: figure.getAttribute("data-query"),
        operationName: "MongoliaEngagements",
        variables: { first: first },
      }),
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        var error = body.errors && body.errors[0];
        var extensions = (error && error.extensions) || {};
        if (error && extensions.code === "QUERY_TOO_COMPLEX" && extensions.cost > 0 && first > 1) {
          var fewer = Math.max(1, Math.min(first - 1, Math.floor((first * extensions.limit) / extensions.cost * 0.9)));
          return load(fewer);
        }
        return body;
      });
  }

  load(100)
    .then(function (body) {
      if (body.errors) throw new Error(body.errors[0].message);
      draw(figure, body.data.timeline);
      // Redrawn at the new width when the window's width changes (a phone turned, a window resized).
      var drawnWidth = figure.clientWidth, pending = null;
      window.addEventListener("resize", function () {
        clearTimeout(pending);
        pending = setTimeout(function () {
          if (figure.clientWidth !== drawnWidth) {
            drawnWidth = figure.clientWidth;
            draw(figure, body.data.timeline);
          }
        }, 150);
      });
    })
    .catch(function (error) { fail(figure, error.message); });
})();
