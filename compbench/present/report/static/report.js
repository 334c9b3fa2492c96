/* compbench report: the interactive charts (plotly, embedded above) and the per-image tables.
   Everything comes from the JSON in #report-data; nothing is fetched. */
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const CONFIG = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"]};

  // plotly renders a subset of HTML in its texts (legend, hover): user text goes in as entities
  const esc = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const show = (meta, value) => {
    if (value === null || value === undefined || Number.isNaN(value)) return "-";
    if (value === Infinity && meta.lossless) return "lossless";
    if (!Number.isFinite(value)) return String(value);
    return value.toFixed(meta.decimals);
  };

  function fill(select, options) {
    // options: [value, text]; text set as text, never parsed as HTML
    for (const [value, text] of options) select.add(new Option(text, value));
    return select;
  }

  function pressed(on, off) {
    on.setAttribute("aria-pressed", "true");
    off.setAttribute("aria-pressed", "false");
  }

  // ------------------------------------------------------------ rate-distortion
  function rdTraces(rd, quality, rate, cls) {
    const p = rd.points, mq = rd.meta[quality], mr = rd.meta[rate];
    const traces = [];
    for (const codec of rd.codecs) {
      const rows = [], lossless = [];
      p.codec.forEach((c, i) => {
        if (c !== codec || p.class[i] !== cls || p.mean[rate][i] === null) return;
        if (p.lossless[i]) lossless.push(i);
        else if (p.mean[quality][i] !== null) rows.push(i);
      });
      rows.sort((a, b) => p.mean[rate][a] - p.mean[rate][b]);
      const custom = (i) => [esc(p.setting[i]), p.count[i], show(mr, p.std[rate][i]), show(mq, p.std[quality][i])];
      const hover = `<b>${esc(codec)}</b> %{customdata[0]}<br>${esc(mr.heading)}: %{x:.${mr.decimals}f} (std %{customdata[2]})`
        + `<br>${esc(mq.heading)}: %{y:.${mq.decimals}f} (std %{customdata[3]})<br>images: %{customdata[1]}<extra></extra>`;
      traces.push({type: "scatter", mode: "lines+markers", name: esc(codec), legendgroup: codec,
        x: rows.map((i) => p.mean[rate][i]), y: rows.map((i) => p.mean[quality][i]),
        customdata: rows.map(custom), hovertemplate: hover, line: {color: rd.colors[codec]},
        marker: {size: 7, color: rd.colors[codec]}});
      if (lossless.length) {  // exact: no finite quality, drawn on the top edge as stars
        // in the legend only for a codec with nothing else to click on (a lossless codec)
        traces.push({type: "scatter", mode: "markers", name: esc(codec) + (rows.length ? " (lossless)" : ""),
          legendgroup: codec, showlegend: !rows.length, yaxis: "y2", x: lossless.map((i) => p.mean[rate][i]), y: lossless.map(() => 0.97),
          customdata: lossless.map(custom),
          hovertemplate: `<b>${esc(codec)}</b> %{customdata[0]}<br>${esc(mr.heading)}: %{x:.${mr.decimals}f}`
            + `<br>lossless (${esc(mq.label)} infinite)<br>images: %{customdata[1]}<extra></extra>`,
          marker: {symbol: "star", size: 14, color: rd.colors[codec], line: {color: "#000", width: 0.5}}});
      }
    }
    for (const ref of rd.references) {
      if (ref.rate !== rate || ref.quality !== quality) continue;
      traces.push({type: "scatter", mode: "lines+markers", name: esc(ref.name) + " (reference)",
        x: ref.rates, y: ref.qualities, line: {dash: "dash", color: "#555"}, marker: {size: 5, color: "#555"},
        hovertemplate: `<b>${esc(ref.name)}</b> ${esc(ref.source)}<br>%{x}, %{y}<extra></extra>`});
    }
    return traces;
  }

  function logTicks(values) {
    // 1, 2, 5 per decade over the drawn rates, written as numbers (plotly's own log ticks
    // label the steps between decades with bare digits)
    const positive = values.filter((v) => v > 0);
    if (!positive.length) return {};
    const low = Math.floor(Math.log10(Math.min(...positive))), high = Math.ceil(Math.log10(Math.max(...positive)));
    const ticks = [];
    for (let k = low; k <= high; k++) for (const m of [1, 2, 5]) ticks.push(Number((m * 10 ** k).toPrecision(1)));
    return {tickvals: ticks, ticktext: ticks.map(String)};
  }

  function rdLayout(rd, quality, rate, cls, log) {
    const target = rd.target && rd.target.metric === rate ? rd.target.value : null;
    const rates = rd.points.mean[rate].filter((v, i) => v !== null && rd.points.class[i] === cls);
    return {
      margin: {l: 70, r: 20, t: 36, b: 56}, hovermode: "closest",
      title: {text: `${esc(rd.meta[quality].label)} vs rate, ${cls === "all" ? "all images" : "class " + esc(cls)}`,
        font: {size: 15}},
      xaxis: {title: {text: esc(rd.meta[rate].axis)}, type: log ? "log" : "linear", zeroline: false,
        ...(log ? logTicks(rates) : {})},
      yaxis: {title: {text: esc(rd.meta[quality].axis)}, zeroline: false},
      yaxis2: {overlaying: "y", range: [0, 1], visible: false, fixedrange: true},
      legend: {title: {text: "codec (click to hide)"}},
      shapes: target === null ? [] : [{type: "line", xref: "x", yref: "paper", x0: target, x1: target, y0: 0, y1: 1,
        line: {dash: "dot", color: "#b5651d", width: 1.5}}],
      // an annotation on a log axis is placed in log10 units (a shape is not)
      annotations: target === null ? [] : [{x: log ? Math.log10(target) : target, xref: "x", y: 0, yref: "paper",
        xanchor: "left", yanchor: "bottom", showarrow: false, text: ` matched: ${target.toFixed(3)}`,
        font: {size: 11, color: "#b5651d"}}],
    };
  }

  function rdChart(rd) {
    const el = document.getElementById("rd-chart");
    if (!el || !rd || !window.Plotly) return;
    el.textContent = "";
    const quality = fill(document.getElementById("rd-quality"), rd.qualities.map((n) => [n, rd.meta[n].heading]));
    const rate = fill(document.getElementById("rd-rate"), rd.rates.map((n) => [n, rd.meta[n].heading]));
    const cls = fill(document.getElementById("rd-class"), rd.classes.map((n) => [n, n === "all" ? "all images" : n]));
    const linear = document.getElementById("rd-linear"), logButton = document.getElementById("rd-log");
    let log = rd.log;
    const draw = () => {
      pressed(log ? logButton : linear, log ? linear : logButton);
      return Plotly.react(el, rdTraces(rd, quality.value, rate.value, cls.value),
        rdLayout(rd, quality.value, rate.value, cls.value, log), CONFIG);
    };
    for (const control of [quality, rate, cls]) control.addEventListener("change", draw);
    linear.addEventListener("click", () => { log = false; draw(); });
    logButton.addEventListener("click", () => { log = true; draw(); });
    return draw();
  }

  // ------------------------------------------------------------ BD matrix
  function bdChart(bd) {
    const el = document.getElementById("bd-chart");
    if (!el || !bd || !bd.cells || !window.Plotly) return;
    const c = bd.cells;
    const quality = fill(document.getElementById("bd-quality"), bd.qualities.map((q) => [q, q]));
    const rateButton = document.getElementById("bd-rate-button"), qualityButton = document.getElementById("bd-quality-button");
    let byRate = true;
    const draw = () => {
      pressed(byRate ? rateButton : qualityButton, byRate ? qualityButton : rateButton);
      const rows = c.codec.map((_, i) => i).filter((i) => c.quality[i] === quality.value);
      const codecs = [...new Set(rows.map((i) => c.codec[i]))];
      const classes = [...new Set(rows.map((i) => c.class[i]))];
      const z = codecs.map(() => classes.map(() => null));
      const text = codecs.map(() => classes.map(() => "n/a"));
      const custom = codecs.map(() => classes.map(() => ["", "", "", ""]));
      for (const i of rows) {
        const r = codecs.indexOf(c.codec[i]), k = classes.indexOf(c.class[i]);
        const value = byRate ? c.bd_rate_pct[i] : c.bd_quality[i];
        z[r][k] = value;
        text[r][k] = value === null ? "n/a" : (byRate ? value.toFixed(1) + "%" : value.toFixed(3));
        custom[r][k] = [esc(c.anchor ? c.anchor[i] : ""), c.bd_rate_pct[i] === null ? "n/a" : c.bd_rate_pct[i].toFixed(2) + "%",
          c.bd_quality[i] === null ? "n/a" : c.bd_quality[i].toFixed(3), esc(c.warning ? c.warning[i] || "none" : "none")];
      }
      const trace = {type: "heatmap", x: classes.map(esc), y: codecs.map(esc), z, text, texttemplate: "%{text}",
        customdata: custom, colorscale: "RdBu", reversescale: !byRate, zmid: 0, xgap: 2, ygap: 2,
        colorbar: {title: {text: byRate ? "BD-rate %<br>(blue: fewer bits)" : "BD-quality<br>(blue: better)"}},
        hovertemplate: "<b>%{y}</b> vs %{customdata[0]}, class %{x}<br>BD-rate %{customdata[1]}"
          + "<br>BD-quality %{customdata[2]}<br>warning: %{customdata[3]}<extra></extra>"};
      return Plotly.react(el, [trace], {margin: {l: 110, r: 20, t: 30, b: 50}, xaxis: {title: {text: "class"}, type: "category"},
        yaxis: {type: "category", autorange: "reversed"},
        title: {text: `${byRate ? "BD-rate" : "BD-quality"} against the anchor (${esc(quality.value)})`, font: {size: 15}}}, CONFIG);
    };
    quality.addEventListener("change", draw);
    rateButton.addEventListener("click", () => { byRate = true; draw(); });
    qualityButton.addEventListener("click", () => { byRate = false; draw(); });
    draw();
    const square = document.getElementById("bd-matrix");
    if (square && bd.matrix) {
      const m = bd.matrix;
      Plotly.react(square, [{type: "heatmap", x: m.columns.map(esc), y: m.rows.map(esc), z: m.values, zmid: 0,
        colorscale: "RdBu", texttemplate: "%{z:.1f}", xgap: 2, ygap: 2,
        hovertemplate: "<b>%{y}</b> against %{x}: BD-rate %{z:.2f}%<extra></extra>"}],
      {margin: {l: 110, r: 20, t: 20, b: 60}, xaxis: {title: {text: "anchor"}}, yaxis: {autorange: "reversed"}}, CONFIG);
    }
  }

  // ------------------------------------------------------------ per-image tables
  let positionOf = new Map();  // image id -> its place in the image list (set by perImage)

  async function unpack(entry) {
    // base64 -> gzip -> the setting's byte planes (per_image.py writes them)
    const bytes = Uint8Array.from(atob(entry.data), (ch) => ch.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const buffer = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = entry.count, columns = {};
    for (const [name, col] of Object.entries(entry.columns)) {
      if (col.same) continue;
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let k = col.width - 1; k >= 0; k--) v = v * 256 + buffer[col.start + k * n + i];
        values[i] = (v + col.offset) / col.scale;
      }
      for (const r of col.nan || []) values[r] = NaN;
      for (const r of col.inf || []) values[r] = Infinity;
      for (const r of col["-inf"] || []) values[r] = -Infinity;
      columns[name] = values;
    }
    for (const [name, col] of Object.entries(entry.columns)) if (col.same) columns[name] = columns[col.same];
    const rows = new Int32Array(n);  // each row's image: its id looked up in the image list
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = entry.ids.width - 1; k >= 0; k--) v = v * 256 + buffer[entry.ids.start + k * n + i];
      rows[i] = positionOf.get(v + entry.ids.offset);
    }
    return {rows: Array.from(rows), columns};
  }

  function perImage(pi) {
    const table = document.getElementById("per-image-table");
    if (!table || !pi) return;
    const setting = document.getElementById("per-image-setting"), cls = document.getElementById("per-image-class");
    const failedOnly = document.getElementById("per-image-failed"), status = document.getElementById("per-image-status");
    const images = pi.images, cache = new Map();
    positionOf = new Map(images.index.map((id, k) => [id, k]));
    const groups = new Map();
    for (const label of Object.keys(pi.settings)) {
      const codec = pi.codecs[label];
      if (!groups.has(codec)) groups.set(codec, document.createElement("optgroup"));
      groups.get(codec).label = codec;
      groups.get(codec).appendChild(new Option(label, label, false, label === pi.initial));
    }
    for (const group of groups.values()) setting.appendChild(group);
    fill(cls, images.classes.map((name, k) => [String(k), name]));
    const state = {key: null, descending: false, page: 0};

    const render = async () => {
      const entry = pi.settings[setting.value];
      if (!cache.has(setting.value)) cache.set(setting.value, await unpack(entry));
      const {rows, columns} = cache.get(setting.value);
      const names = Object.keys(pi.meta).filter((name) => name in columns);
      const keys = ["image", "class", ...names, "error"];
      let order = rows.map((_, i) => i);
      if (cls.value !== "") order = order.filter((i) => String(images.class[rows[i]]) === cls.value);
      if (failedOnly.checked) order = order.filter((i) => String(i) in entry.errors);
      if (state.key) {
        const value = (i) => state.key === "image" ? images.index[rows[i]]
          : state.key === "class" ? images.classes[images.class[rows[i]]]
            : state.key === "error" ? entry.errors[String(i)] || "" : columns[state.key][i];
        const sign = state.descending ? -1 : 1;
        order.sort((a, b) => {
          const x = value(a), y = value(b);
          if (typeof x === "number" && typeof y === "number") {
            if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);  // missing last
            return sign * (x - y);
          }
          return sign * String(x).localeCompare(String(y));
        });
      }
      const pages = Math.max(1, Math.ceil(order.length / pi.page));
      state.page = Math.min(state.page, pages - 1);
      const shown = order.slice(state.page * pi.page, (state.page + 1) * pi.page);
      const head = document.createElement("tr");
      for (const key of keys) {
        const th = document.createElement("th");
        th.dataset.key = key;
        th.textContent = key in pi.meta ? pi.meta[key].label : key;
        if (key in pi.meta && pi.meta[key].unit && pi.meta[key].unit !== "images") {
          const unit = document.createElement("span");
          unit.className = "unit";
          unit.textContent = pi.meta[key].unit;
          th.appendChild(unit);
        }
        if (key in pi.meta) th.className = "num";
        if (state.key === key) th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
        head.appendChild(th);
      }
      table.tHead.replaceChildren(head);
      const body = document.createDocumentFragment();
      for (const i of shown) {
        const tr = document.createElement("tr");
        const r = rows[i];
        const id = images.name && images.name[r] ? `${images.index[r]} ${images.name[r]}` : String(images.index[r]);
        const cells = [[id, "th"], [images.classes[images.class[r]], ""],
          ...names.map((name) => [show(pi.meta[name], columns[name][i]), "num"]), [entry.errors[String(i)] || "", "error"]];
        for (const [text, kind] of cells) {
          const cell = document.createElement(kind === "th" ? "th" : "td");
          cell.textContent = text;
          if (kind && kind !== "th") cell.className = kind;
          tr.appendChild(cell);
        }
        body.appendChild(tr);
      }
      table.tBodies[0].replaceChildren(body);
      status.textContent = `rows ${order.length ? state.page * pi.page + 1 : 0}-${state.page * pi.page + shown.length}`
        + ` of ${order.length} (page ${state.page + 1} of ${pages})`;
    };

    table.tHead.addEventListener("click", (event) => {
      const th = event.target.closest("th[data-key]");
      if (!th) return;
      state.descending = state.key === th.dataset.key ? !state.descending : false;
      state.key = th.dataset.key;
      render();
    });
    for (const control of [setting, cls, failedOnly]) control.addEventListener("change", () => { state.page = 0; render(); });
    document.getElementById("per-image-prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); render(); });
    document.getElementById("per-image-next").addEventListener("click", () => { state.page += 1; render(); });
    return render();
  }

  // each part on its own: one that fails leaves the others (and the static figures) working
  window.compbenchReady = Promise.allSettled([
    Promise.resolve().then(() => rdChart(data.rd)),
    Promise.resolve().then(() => bdChart(data.bd)),
    Promise.resolve().then(() => perImage(data.perImage)),
  ]).then((results) => {
    for (const r of results) if (r.status === "rejected") console.error(r.reason);
    return results.map((r) => r.status);
  });
})();
