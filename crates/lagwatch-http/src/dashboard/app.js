// lagwatch dashboard: hand-written, no framework, no request to any other host.
// Pages by URL fragment: #/ (overview), #/group/<cluster>/<group>, #/topic/<cluster>/<topic>.
// Everything comes from the JSON API under /api/v1. Every second the page asks for the
// pipeline's status (a small answer) and redraws only when a new evaluation has run (or every
// 15 s, for the "ago" texts), so it shows a new verdict within a second of the API.
"use strict";
(function () {
  const POLL_MS = 1000;
  const REDRAW_MS = 15000;
  const PAGE_SIZE = 100;
  const MAX_PARTITION_LINES = 8;
  const SYMBOL = { OK: "✓", WARN: "▲", ERR: "✖", NOTFOUND: "?", STOP: "■", STALL: "◆", REWIND: "↺" };

  // What tests and people can read from the console.
  const probe = (window.lagwatch = { firstChartMs: null, renders: 0, lastError: null, page: "", cycle: null, evaluatedAt: null });

  const main = document.getElementById("main");
  const crumbs = document.getElementById("crumbs");
  const live = document.getElementById("live");
  const view = { filter: "", page: 0, timer: null, token: 0, drawn: "", drawnAt: 0 };

  // ------------------------------------------------------------------ formatting
  function esc(v) {
    return String(v == null ? "" : v).replace(/[&<>"']/g, (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  function has(v) { return v !== undefined && v !== null; }
  function num(v) { return has(v) && isFinite(v) ? Number(v).toLocaleString("en-US") : "–"; }
  function compact(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + "k";
    return String(Math.round(v * 100) / 100);
  }
  function dur(seconds) {
    if (!has(seconds) || !isFinite(seconds)) return "–";
    let s = Math.max(0, Math.round(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    s %= 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m " + String(s).padStart(2, "0") + "s";
    return s + "s";
  }
  function ago(ms) { return ms ? dur((Date.now() - ms) / 1000) + " ago" : "never"; }
  function clock(ms) { return ms ? new Date(ms).toLocaleTimeString() : "–"; }
  function stamp(ms) { return ms ? new Date(ms).toLocaleString() : "–"; }
  function rate(v) { return has(v) && isFinite(v) ? compact(v) + "/s" : "unknown"; }
  function badge(status) {
    if (!status) return "";
    return '<span class="badge st-' + esc(status) + '" data-status="' + esc(status) + '">' +
      '<span aria-hidden="true">' + (SYMBOL[status] || "") + "</span> " + esc(status) + "</span>";
  }
  function markers(o) {
    return (o.warming_up ? '<span class="marker warming" title="not enough commits for a verdict yet">⏳ warming up</span>' : "") +
      (o.stale ? '<span class="marker stale" title="the cluster could not be read recently">⚠ stale</span>' : "") +
      (o.data_loss_before_catch_up === true ? '<span class="marker stale" title="retention will delete unread messages before the group catches up">⚠ data loss ahead</span>' : "");
  }
  function catchUp(o) {
    return o.catching_up === false ? "not catching up" : has(o.time_to_catch_up_seconds) ? dur(o.time_to_catch_up_seconds) : "unknown";
  }
  function seg(s) { return encodeURIComponent(s); }
  function groupLink(c, g, text) {
    return '<a href="#/group/' + seg(c) + "/" + seg(g) + '">' + esc(text == null ? g : text) + "</a>";
  }
  function topicLink(c, t) { return '<a href="#/topic/' + seg(c) + "/" + seg(t) + '">' + esc(t) + "</a>"; }

  // ------------------------------------------------------------------ data
  async function api(path) {
    const r = await fetch(path, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    if (!r.ok) {
      let msg = r.status + " " + r.statusText;
      try { const b = await r.json(); if (b && b.error) msg = String(b.error === true ? b.message : b.error); } catch (_) { /* not JSON */ }
      const e = new Error(msg); e.status = r.status; throw e;
    }
    return r.json();
  }

  // ------------------------------------------------------------------ charts (SVG)
  function sparkline(values) {
    if (!values || values.length < 2) return '<span class="muted small">–</span>';
    const w = 100, h = 24, max = Math.max(...values), min = Math.min(...values);
    const span = max - min || 1, step = w / (values.length - 1);
    const pts = values.map((v, i) => (i * step).toFixed(1) + "," + (h - 1 - ((v - min) / span) * (h - 2)).toFixed(1)).join(" ");
    chartDrawn();
    return '<svg class="spark" viewBox="0 0 ' + w + " " + h + '" preserveAspectRatio="none" role="img" data-points="' +
      values.length + '" aria-label="total lag from ' + num(values[0]) + " to " + num(values[values.length - 1]) +
      '"><title>total lag ' + num(min) + "–" + num(max) + '</title><polyline points="' + pts + '"/></svg>';
  }

  // series: [{name, points: [[ms, value|null], ...]}]; returns SVG and legend markup.
  function lineChart(id, label, series, unit) {
    const W = 520, H = 260, L = 56, R = 12, T = 10, B = 26;
    let tmin = Infinity, tmax = -Infinity, vmax = 0, count = 0;
    for (const s of series) for (const [t, v] of s.points) {
      if (!has(v)) continue;
      tmin = Math.min(tmin, t); tmax = Math.max(tmax, t); vmax = Math.max(vmax, v); count++;
    }
    if (count === 0) {
      return '<p class="muted" data-chart="' + esc(id) + '" data-points="0">No points yet: the history fills at every evaluation.</p>';
    }
    if (tmax === tmin) tmax = tmin + 1000;
    // Four gridlines at round values: the step is 1, 2 or 5 times a power of ten.
    const raw = Math.max(vmax, 1) / 4, p10 = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= raw);
    vmax = step * 4;
    const x = (t) => L + ((t - tmin) / (tmax - tmin)) * (W - L - R);
    const y = (v) => T + (1 - v / vmax) * (H - T - B);
    let out = '<svg class="chart" id="' + esc(id) + '" data-chart="' + esc(id) + '" data-points="' + count +
      '" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(label) + '"><title>' + esc(label) + "</title>";
    for (let i = 0; i <= 4; i++) {
      const v = (vmax * i) / 4, yy = y(v).toFixed(1);
      out += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + yy + '" y2="' + yy + '"/>' +
        '<text x="' + (L - 6) + '" y="' + (Number(yy) + 4) + '" text-anchor="end">' + esc(unit === "s" ? dur(v) : compact(v)) + "</text>";
    }
    out += '<text x="' + L + '" y="' + (H - 6) + '">' + esc(clock(tmin)) + "</text>" +
      '<text x="' + (W - R) + '" y="' + (H - 6) + '" text-anchor="end">' + esc(clock(tmax)) + "</text>";
    series.forEach((s, i) => {
      // A gap where a value is missing: one polyline per run of values.
      let run = [];
      const flush = () => {
        if (run.length === 1) run.push(run[0]);
        if (run.length) out += '<polyline class="s' + (i % 8) + (i >= 8 ? " dash1" : "") + '" points="' + run.join(" ") + '"/>';
        run = [];
      };
      for (const [t, v] of s.points) {
        if (!has(v)) { flush(); continue; }
        run.push(x(t).toFixed(1) + "," + y(v).toFixed(1));
      }
      flush();
    });
    out += "</svg>";
    if (series.length > 1) {
      out += '<ul class="legend">' + series.map((s, i) =>
        '<li><span class="sw s' + (i % 8) + '" aria-hidden="true"></span>' + esc(s.name) + "</li>").join("") + "</ul>";
    }
    if (count >= 2) chartDrawn();
    return out;
  }

  function chartDrawn() {
    if (probe.firstChartMs === null) probe.firstChartMs = Math.round(performance.now());
  }

  // ------------------------------------------------------------------ pages
  function setCrumbs(html) { crumbs.innerHTML = html; }

  function skeleton(page, html) {
    if (main.dataset.page !== page) {
      main.dataset.page = page;
      main.innerHTML = html;
      return true;
    }
    return false;
  }

  async function overview(status) {
    setCrumbs("Overview");
    document.title = "lagwatch";
    if (skeleton("overview",
      '<h1>Consumer groups</h1>' +
      '<section aria-labelledby="h-groups"><h2 id="h-groups" class="sr">Groups, worst first</h2>' +
      '<div class="toolbar"><input type="search" id="filter" placeholder="Filter by group or cluster name" aria-label="Filter groups by name">' +
      '<span id="count" class="muted small"></span></div><div id="groups"></div>' +
      '<div class="toolbar" id="pager"></div></section>' +
      '<section><h2>Alerts</h2><div id="alerts"></div></section>' +
      '<section><h2>Clusters</h2><div id="clusters"></div></section>' +
      '<section><h2>Sources and sinks</h2><div id="health"></div></section>')) {
      const f = document.getElementById("filter");
      f.value = view.filter;
      f.addEventListener("input", () => { view.filter = f.value; view.page = 0; drawGroups(); });
    }
    const [groups, clusters, alerts] = await Promise.all([
      api("/api/v1/groups?sparkline=true"), api("/api/v1/clusters"), api("/api/v1/alerts"),
    ]);
    view.groups = groups.groups || [];
    drawGroups();
    drawAlerts(alerts);
    drawClusters(clusters);
    drawHealth(status);
    return status.evaluated_at_ms;
  }

  function drawGroups() {
    const el = document.getElementById("groups");
    if (!el) return;
    const q = view.filter.trim().toLowerCase();
    const all = view.groups || [];
    const list = q ? all.filter((g) => g.group.toLowerCase().includes(q) || g.cluster.toLowerCase().includes(q)) : all;
    const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
    view.page = Math.min(view.page, pages - 1);
    const rows = list.slice(view.page * PAGE_SIZE, (view.page + 1) * PAGE_SIZE);
    document.getElementById("count").textContent = list.length === all.length
      ? all.length + " groups" : list.length + " of " + all.length + " groups";
    // Trend fields exist only when this lagwatch estimates them.
    const trend = all.some((g) => "time_to_catch_up_seconds" in g || "catching_up" in g);
    if (!rows.length) {
      el.innerHTML = '<p class="muted">' + (all.length ? "No group matches the filter." : "No consumer group seen yet.") + "</p>";
    } else {
      el.innerHTML = '<div class="table-wrap"><table id="group-table"><thead><tr><th>Status</th><th>Group</th>' +
        '<th class="hide-narrow">Cluster</th><th class="n">Total lag</th><th class="n hide-narrow">Max lag</th>' +
        '<th class="n">Time lag</th>' + (trend ? '<th class="n hide-narrow">Catch up in</th>' : "") +
        "<th>Total lag, recent</th></tr></thead><tbody>" +
        rows.map((g) => '<tr class="group-row" data-cluster="' + esc(g.cluster) + '" data-group="' + esc(g.group) +
          '" data-status="' + esc(g.status) + '"><td class="status">' + badge(g.status) +
          (g.worst_partition && g.worst_partition !== "OK" && g.worst_partition !== g.status ? " " + badge(g.worst_partition) : "") +
          '</td><td class="name">' + groupLink(g.cluster, g.group) + markers(g) + "</td>" +
          '<td class="hide-narrow">' + esc(g.cluster) + '</td><td class="n">' + num(g.total_lag) +
          '</td><td class="n hide-narrow">' + num(g.max_lag) + '</td><td class="n">' + dur(g.max_time_lag_seconds) +
          "</td>" + (trend ? '<td class="n hide-narrow">' + catchUp(g) + "</td>" : "") +
          "<td>" + sparkline(g.sparkline) + "</td></tr>").join("") +
        "</tbody></table></div>";
    }
    const pager = document.getElementById("pager");
    if (pages > 1) {
      pager.innerHTML = '<button id="prev"' + (view.page === 0 ? " disabled" : "") + '>← Previous</button>' +
        '<span class="muted small">page ' + (view.page + 1) + " of " + pages + "</span>" +
        '<button id="next"' + (view.page >= pages - 1 ? " disabled" : "") + ">Next →</button>";
      document.getElementById("prev").onclick = () => { view.page--; drawGroups(); };
      document.getElementById("next").onclick = () => { view.page++; drawGroups(); };
    } else {
      pager.innerHTML = "";
    }
  }

  function alertLine(a, resolvedToo) {
    const state = a.state === "resolved" ? " resolved" : "";
    const where = [a.labels && a.labels.cluster, a.labels && a.labels.group].filter(Boolean).join(" / ");
    return '<div class="alert sev-' + esc(a.severity) + (resolvedToo ? state : "") + '"><strong>' + esc(a.rule) + "</strong> " +
      '<span class="muted small">' + esc(a.severity) + (resolvedToo ? " · " + esc(a.state) : "") + "</span>" +
      (where ? " · " + esc(where) : "") + "<br>" + esc(a.summary) +
      '<br><span class="muted small">incident since ' + esc(stamp(a.started_at_ms)) + " (" + esc(ago(a.started_at_ms)) +
      ")" + (resolvedToo ? ", notified " + esc(stamp(a.at_ms)) : "") + "</span></div>";
  }

  function drawAlerts(alerts) {
    const open = alerts.open || [], recent = (alerts.recent || []).slice(0, 15);
    document.getElementById("alerts").innerHTML =
      "<h3 class=\"small\">Firing now (" + open.length + ")</h3>" +
      (open.length ? open.map((a) => alertLine(a, false)).join("") : '<p class="muted">No alert is firing.</p>') +
      (recent.length ? '<details><summary>Recent notifications (' + recent.length + ")</summary>" +
        recent.map((a) => alertLine(a, true)).join("") + "</details>" : "");
  }

  function drawClusters(list) {
    document.getElementById("clusters").innerHTML = list.length
      ? '<div class="table-wrap"><table><thead><tr><th>Cluster</th><th class="n">Groups</th><th class="n">Not OK</th>' +
        '<th class="n">Topics</th><th>Data</th></tr></thead><tbody>' +
        list.map((c) => "<tr><td class=\"name\">" + esc(c.cluster) + '</td><td class="n">' + num(c.groups) +
          '</td><td class="n">' + num(c.groups_not_ok) + '</td><td class="n">' + num(c.topics) + "</td><td>" +
          (c.stale ? '<span class="marker stale">⚠ stale</span>' : "fresh") + "</td></tr>").join("") + "</tbody></table></div>"
      : '<p class="muted">No cluster yet.</p>';
  }

  function drawHealth(s) {
    const sources = (s.sources || []).map((src) => {
      const failing = (src.clusters || []).some((c) => c.last_error);
      return '<div class="card"><h3>' + badge(failing ? "WARN" : src.has_read ? "OK" : "NOTFOUND") + " source " + esc(src.name) + "</h3>" +
        (src.clusters || []).map((c) => '<dl class="kv"><dt>cluster</dt><dd>' + esc(c.cluster) + "</dd><dt>reads</dt><dd>" +
          num(c.reads) + " (" + num(c.failures) + " failed)</dd><dt>last success</dt><dd>" + esc(ago(c.last_success_ms)) + "</dd>" +
          (c.last_error ? '<dt>last error</dt><dd class="error">' + esc(c.last_error) + "</dd>" : "") + "</dl>").join("") + "</div>";
    });
    const outputs = (kind, list) => (list || []).map((o) => {
      const bad = o.failed > 0 || o.dropped > 0;
      return '<div class="card"><h3>' + badge(bad ? "WARN" : "OK") + " " + kind + " " + esc(o.name) + '</h3><dl class="kv">' +
        "<dt>accepted</dt><dd>" + num(o.accepted) + "</dd><dt>failed</dt><dd>" + num(o.failed) + "</dd><dt>dropped</dt><dd>" +
        num(o.dropped) + "</dd><dt>queue</dt><dd>" + num(o.queue_depth) + " / " + num(o.queue_capacity) + "</dd></dl></div>";
    });
    document.getElementById("health").innerHTML =
      '<p class="small">' + badge(s.ready ? "OK" : "WARN") + " " + (s.ready ? "ready" : "not ready yet") +
      " · evaluation " + num(s.cycle) + ", " + esc(ago(s.evaluated_at_ms)) + " · " + num(s.events) + " events</p>" +
      '<div class="grid">' + sources.concat(outputs("sink", s.sinks), outputs("alerter", s.alerters)).join("") + "</div>";
  }

  function trendCells(o) {
    // Trend fields are optional: absent means unknown.
    const rows = [];
    if ("time_to_catch_up_seconds" in o || "catching_up" in o) {
      rows.push(["time to catch up", catchUp(o)]);
    }
    if ("lag_rate" in o) rows.push(["lag change", rate(o.lag_rate)]);
    if ("production_rate" in o) rows.push(["production", rate(o.production_rate)]);
    if ("consumption_rate" in o) rows.push(["consumption", rate(o.consumption_rate)]);
    if ("retention_deadline_seconds" in o) {
      rows.push(["retention deletes unread data in", has(o.retention_deadline_seconds) ? dur(o.retention_deadline_seconds) : "unknown"]);
    }
    if (o.data_loss_before_catch_up === true) rows.push(["data loss", '<span class="neg">⚠ unread messages will be deleted before the group catches up</span>']);
    return rows;
  }

  async function groupPage(cluster, group) {
    setCrumbs('<a href="#/">Overview</a> › ' + esc(cluster) + " › group " + esc(group));
    document.title = group + " · lagwatch";
    skeleton("group:" + cluster + "/" + group,
      '<h1 id="title"></h1><div class="grid" id="summary"></div>' +
      '<div class="charts"><section><h2>Total lag</h2><div id="chart-total"></div></section>' +
      '<section><h2>Lag per partition</h2><div id="chart-partitions"></div></section>' +
      '<section><h2>Time lag</h2><div id="chart-time"></div></section></div>' +
      '<section><h2>Partitions</h2><div id="partitions"></div></section>');
    const base = "/api/v1/groups/" + seg(cluster) + "/" + seg(group);
    const [detail, history] = await Promise.all([api(base), api(base + "/history")]);
    const g = detail.group, parts = detail.partitions || [];
    document.getElementById("title").innerHTML = '<span id="group-status" data-status="' + esc(g.status) + '">' + badge(g.status) + "</span> " +
      (g.worst_partition && g.worst_partition !== "OK" ? '<span id="worst" data-status="' + esc(g.worst_partition) + '">' + badge(g.worst_partition) + "</span> " : "") +
      esc(group) + markers(g);
    const facts = [["cluster", esc(cluster)], ["total lag", num(g.total_lag)], ["max lag", num(g.max_lag)],
      ["max time lag", dur(g.max_time_lag_seconds)], ["partitions", num(g.partition_count)],
      ["window filled", Math.round((g.complete || 0) * 100) + "%"], ["evaluated", esc(ago(g.evaluated_at_ms))]];
    const trends = trendCells(g);
    const owners = [...new Set(parts.map((p) => [p.owner, p.client_id].filter(Boolean).join(" · ")).filter(Boolean))];
    document.getElementById("summary").innerHTML =
      '<div class="card"><dl class="kv">' + facts.map(([k, v]) => "<dt>" + k + "</dt><dd>" + v + "</dd>").join("") + "</dl></div>" +
      '<div class="card" id="trends"><h3>Trend</h3>' + (trends.length
        ? '<dl class="kv">' + trends.map(([k, v]) => "<dt>" + k + "</dt><dd>" + v + "</dd>").join("") + "</dl>"
        : '<p class="muted small">No trend estimate from this lagwatch.</p>') + "</div>" +
      '<div class="card"><h3>Owners and client ids</h3>' + (owners.length
        ? "<ul>" + owners.map((o) => "<li>" + esc(o) + "</li>").join("") + "</ul>" : '<p class="muted small">No member owns a partition.</p>') + "</div>";

    const points = history.points || [];
    document.getElementById("chart-total").innerHTML = lineChart("chart-total-svg", "Total lag of " + group,
      [{ name: "total lag", points: points.map((p) => [p.at_ms, p.total_lag]) }], "");
    document.getElementById("chart-time").innerHTML = lineChart("chart-time-svg", "Largest time lag of " + group,
      [{ name: "max time lag", points: points.map((p) => [p.at_ms, p.max_time_lag_seconds]) }], "s");
    const keys = history.partitions || [], pp = history.partition_points || [];
    const lastLag = (i) => { for (let k = pp.length - 1; k >= 0; k--) { const v = pp[k].lag[i]; if (has(v)) return v; } return 0; };
    const order = keys.map((_, i) => i).sort((a, b) => lastLag(b) - lastLag(a)).slice(0, MAX_PARTITION_LINES);
    document.getElementById("chart-partitions").innerHTML =
      lineChart("chart-partitions-svg", "Lag per partition of " + group,
        order.map((i) => ({ name: keys[i].topic + "[" + keys[i].partition + "]", points: pp.map((p) => [p.at_ms, p.lag[i]]) })), "") +
      (keys.length > order.length ? '<p class="muted small">The ' + order.length + " most lagging of " + keys.length + " partitions.</p>" : "");

    const trendCols = parts.some((p) => "time_to_catch_up_seconds" in p || "lag_rate" in p);
    document.getElementById("partitions").innerHTML = '<div class="table-wrap"><table id="partition-table"><thead><tr>' +
      '<th>Topic</th><th class="n">Partition</th><th>Status</th><th>Why</th><th class="n">Lag</th><th class="n">Time lag</th>' +
      '<th class="n">Committed</th><th class="n">Log end</th><th class="n">Log start</th><th class="n">Retention margin</th>' +
      (trendCols ? '<th class="n">Lag change</th><th class="n">Catch up in</th>' : "") +
      '<th>Owner</th><th>Client id</th></tr></thead><tbody>' +
      parts.map((p) => '<tr class="partition-row" data-topic="' + esc(p.topic) + '" data-partition="' + esc(p.partition) +
        '" data-status="' + esc(p.status) + '"><td class="name">' + topicLink(cluster, p.topic) + '</td><td class="n">' + esc(p.partition) +
        "</td><td>" + badge(p.status) + markers(p) + '</td><td class="reason">' + esc(p.reason || "") + '</td><td class="n">' + num(p.lag) +
        '</td><td class="n">' + dur(p.time_lag_seconds) + '</td><td class="n">' + num(p.committed_offset) +
        '</td><td class="n">' + num(p.log_end_offset) + '</td><td class="n">' + num(p.log_start_offset) +
        '</td><td class="n' + (has(p.retention_margin) && p.retention_margin < 0 ? " neg" : "") + '">' +
        (has(p.retention_margin) && p.retention_margin < 0 ? "⚠ " : "") + num(p.retention_margin) + "</td>" +
        (trendCols ? '<td class="n">' + rate(p.lag_rate) + '</td><td class="n">' +
          catchUp(p) + "</td>" : "") +
        "<td>" + esc(p.owner) + "</td><td>" + esc(p.client_id) + "</td></tr>").join("") + "</tbody></table></div>";
    return g.evaluated_at_ms;
  }

  async function topicPage(cluster, topic) {
    setCrumbs('<a href="#/">Overview</a> › ' + esc(cluster) + " › topic " + esc(topic));
    document.title = topic + " · lagwatch";
    skeleton("topic:" + cluster + "/" + topic,
      '<h1 id="title"></h1><section><h2>Consumers</h2><div id="consumers"></div></section>' +
      '<section><h2>Partitions</h2><div id="offsets"></div></section>');
    const t = await api("/api/v1/topics/" + seg(cluster) + "/" + seg(topic));
    const consumers = t.consumers || [];
    document.getElementById("title").textContent = "Topic " + topic;
    document.getElementById("consumers").innerHTML = consumers.length
      ? '<div class="table-wrap"><table id="consumer-table"><thead><tr><th>Status</th><th>Group</th><th class="n">Lag on this topic</th>' +
        '<th class="n">Time lag</th></tr></thead><tbody>' +
        consumers.map((c) => '<tr class="consumer-row" data-group="' + esc(c.group) + '" data-status="' + esc(c.status) + '"><td>' +
          badge(c.status) + (c.worst_partition && c.worst_partition !== "OK" && c.worst_partition !== c.status ? " " + badge(c.worst_partition) : "") +
          '</td><td class="name">' + groupLink(cluster, c.group) + markers(c) + '</td><td class="n">' + num(c.lag) +
          '</td><td class="n">' + dur(c.max_time_lag_seconds) + "</td></tr>").join("") + "</tbody></table></div>"
      : '<p class="muted">No group consumes this topic.</p>';
    const ends = t.end_offsets || [], starts = t.start_offsets || [];
    document.getElementById("offsets").innerHTML = '<div class="table-wrap"><table><thead><tr><th class="n">Partition</th>' +
      '<th class="n">Log start</th><th class="n">Log end</th><th class="n">Messages kept</th></tr></thead><tbody>' +
      ends.map((e, i) => '<tr><td class="n">' + i + '</td><td class="n">' + num(starts[i]) + '</td><td class="n">' + num(e) +
        '</td><td class="n">' + (has(e) && has(starts[i]) ? num(e - starts[i]) : "–") + "</td></tr>").join("") + "</tbody></table></div>";
    return null;
  }

  // ------------------------------------------------------------------ routing and refresh
  function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => {
      try { return decodeURIComponent(p); } catch (_) { return p; }
    });
    if (parts[0] === "group" && parts.length >= 3) return ["group", () => groupPage(parts[1], parts.slice(2).join("/"))];
    if (parts[0] === "topic" && parts.length >= 3) return ["topic", () => topicPage(parts[1], parts.slice(2).join("/"))];
    return ["overview", (status) => overview(status)];
  }

  async function refresh() {
    clearTimeout(view.timer);
    const token = ++view.token;
    const [name, draw] = route();
    probe.page = name;
    try {
      const status = await api("/api/v1/status");
      if (token !== view.token) return;
      const key = location.hash + "|" + status.cycle;
      if (key !== view.drawn || Date.now() - view.drawnAt > REDRAW_MS) {
        const at = await draw(status);
        if (token !== view.token) return;
        view.drawn = key;
        view.drawnAt = Date.now();
        probe.cycle = status.cycle;
        probe.evaluatedAt = status.evaluated_at_ms;
        probe.renders++;
        live.textContent = "live · " + (at ? "evaluated " + clock(at) : "updated " + clock(Date.now()));
      }
      probe.lastError = null;
      live.classList.remove("bad");
      document.body.dataset.renders = String(probe.renders);
    } catch (e) {
      if (token !== view.token) return;
      probe.lastError = String(e.message || e);
      live.classList.add("bad");
      live.textContent = "⚠ " + probe.lastError;
      view.drawn = "";
      if (e.status === 404) {
        main.dataset.page = "";
        main.innerHTML = '<h1>Not found</h1><p class="error">' + esc(probe.lastError) + '</p><p><a href="#/">Back to the overview</a></p>';
      }
    }
    if (token === view.token) view.timer = setTimeout(refresh, document.hidden ? POLL_MS * 10 : POLL_MS);
  }

  window.addEventListener("hashchange", () => { main.dataset.page = ""; window.scrollTo(0, 0); refresh(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  refresh();
})();
