// The Attention tab's redraws in the page, with no server round trip (issue 11): another head,
// another query token, [CLS]/[SEP] hidden or shown, rows renormalised or not.
// Wired through gradio's `js=` with no Python function, so gradio sends nothing to the server.
// Inputs: the layer pack (JSON text of present.attention.ClientLayer.payload, its words rendered
// in the page's language), the head slider, the query dropdown, the two checkboxes, the current
// share line. Returns the share line of the head drawn (or the current one when nothing is drawn).
// It draws only when every figure's layout.meta starts with the pack's stamp (same text, model,
// layer and scale); otherwise the server's figures stay. The numbers follow
// present.attention.attention_view and views.py (crop, renormalise, mean, pooled thumbnails,
// category axes); tests/test_browser_client_views.py compares them with the server's.
(pack, head, query, hide, renorm, share) => {
  const plotly = window.Plotly; // set by gradio's plot component when it first draws
  if (!pack || !plotly) return share;
  let cached = window.__attentionPack;
  if (!cached || cached.raw !== pack) {
    const data = JSON.parse(pack);
    const text = atob(data.cells);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    data.values = new Uint16Array(bytes.buffer); // little-endian, as the server wrote it
    const scales = atob(data.scales); // float32 (heads, tokens, [visible, special]), little-endian
    const scaleBytes = new Uint8Array(scales.length);
    for (let i = 0; i < scales.length; i++) scaleBytes[i] = scales.charCodeAt(i);
    data.rowScales = new Float32Array(scaleBytes.buffer);
    cached = window.__attentionPack = { raw: pack, data, states: {} };
  }
  const p = cached.data;
  const h = Math.round(Number(head));
  if (!(h >= 0 && h < p.heads)) return share;
  const plot = (id) => document.querySelector(`#${id} div[data-testid="plotly"]`);
  const figures = { head: plot("att-head-plot"), row: plot("att-row-plot"), mean: plot("att-mean-plot"), grid: plot("att-grid-plot") };
  const prefix = p.stamp + "-";
  const drawnBy = (gd) => gd && gd.layout && typeof gd.layout.meta === "string" && gd.layout.meta.startsWith(prefix);
  if (!Object.values(figures).every(drawnBy)) return share;
  const state = `${hide ? 1 : 0}${renorm ? 1 : 0}`;
  const view = cached.states[state] || (cached.states[state] = layerView(p, !!hide, !!renorm));
  let q = view.keep.indexOf(Number(query));
  if (q < 0) q = 0; // the server draws the first visible token when the chosen query is hidden
  const rowTitle = p.row_titles[h].split("{token}").join(p.labels[view.keep[q]]);
  const matrix = rows(view.heads[h], view.size);
  const ticks = p.ticks[hide ? "1" : "0"];
  const layerTop = Math.max(...view.heads.map(top)); // views.layer_top: one scale for the head and the thumbnails
  let drawing;
  if (figures.head.layout.meta === prefix + state) {
    // the same toggles: only the head heatmap and the query row change
    drawing = Promise.all([
      plotly.update(figures.head, { z: [matrix], zmax: [layerTop] }, titled(figures.head, p.titles[state].head[h])),
      plotly.update(figures.row, { y: [matrix[q]] }, titled(figures.row, rowTitle)),
    ]);
  } else {
    const meta = prefix + state;
    const heatmap = (gd, values, title, zmax) =>
      react(gd, [{ z: rows(values, view.size), x: view.unique, y: view.unique, zmax }], {
        meta,
        height: ticks.height,
        ...titled(gd, title),
        xaxis: axis(gd.layout.xaxis, view.unique, ticks.x),
        yaxis: axis(gd.layout.yaxis, view.unique, ticks.y),
      });
    const thumbnails = view.heads.map((values) => pool(values, view.size, p.thumbnail_cells));
    drawing = Promise.all([
      heatmap(figures.head, view.heads[h], p.titles[state].head[h], layerTop),
      react(figures.row, [{ x: view.unique, y: matrix[q] }], {
        meta,
        ...titled(figures.row, rowTitle),
        xaxis: axis(figures.row.layout.xaxis, view.unique, ticks.row),
      }),
      heatmap(figures.mean, view.mean, p.titles[state].mean, top(view.mean)),
      react(
        figures.grid,
        thumbnails.map((cells) => {
          const names = cells.starts.map((i) => view.unique[i]); // hover names the first token of a cell
          return { z: rows(cells.values, cells.size), x: names, y: names, zmax: layerTop };
        }),
        { meta, ...titled(figures.grid, p.titles[state].grid) }
      ),
    ]);
  }
  drawing.then(() =>
    requestAnimationFrame(() => {
      // read by the browser tests and benchmarks: how many redraws, and when the last one was painted
      window.__attentionRedraws = (window.__attentionRedraws || 0) + 1;
      window.__attentionPainted = performance.now();
    })
  );
  return p.shares[h];

  function react(gd, traces, layout) {
    const data = gd.data.map((trace, i) => ({ ...trace, ...(traces[i] || {}) }));
    return plotly.react(gd, data, { ...gd.layout, ...layout });
  }

  // views._category_axis: every step-th label at the font size of the server's tick plan
  function axis(current, labels, plan) {
    const [step, size] = plan;
    const ticks = labels.filter((_, i) => i % step === 0);
    return { ...current, tickvals: ticks, ticktext: ticks, tickfont: { ...(current.tickfont || {}), size } };
  }

  // views.fit_titles: the title (wrapped by the server) and the top margin grown by its added lines,
  // from the one-line margin (the drawn margin less the drawn title's added lines)
  function titled(gd, text) {
    const lines = (text.match(/<br>/g) || []).length + 1;
    const drawnLines = ((gd.layout.title && gd.layout.title.text) || "").split("<br>").length;
    const base = (gd.layout.margin.t || 70) - 32 * (drawnLines - 1); // views.TITLE_LINE per added line
    return { title: { ...gd.layout.title, text }, margin: { ...gd.layout.margin, t: base + 32 * (lines - 1) } };
  }

  function top(values) {
    let largest = 0;
    for (const value of values) if (value > largest) largest = value;
    return Math.max(largest, 1e-6);
  }

  function rows(values, size) {
    const out = new Array(size);
    for (let r = 0; r < size; r++) out[r] = Array.from(values.subarray(r * size, (r + 1) * size));
    return out;
  }

  // views.pool_blocks: mean of blocks, edges as numpy's linspace(0, size, cells + 1).astype(int)
  function pool(values, size, cells) {
    if (size <= cells) return { values, size, starts: [...Array(size).keys()] };
    const step = size / cells;
    const edges = [...Array(cells + 1).keys()].map((i) => (i === cells ? size : Math.trunc(i * step)));
    const out = new Float64Array(cells * cells);
    for (let a = 0; a < cells; a++)
      for (let b = 0; b < cells; b++) {
        let sum = 0;
        for (let r = edges[a]; r < edges[a + 1]; r++) for (let c = edges[b]; c < edges[b + 1]; c++) sum += values[r * size + c];
        out[a * cells + b] = sum / ((edges[a + 1] - edges[a]) * (edges[b + 1] - edges[b]));
      }
    return { values: out, size: cells, starts: edges.slice(0, cells) };
  }

  // present.attention: crop to the drawn tokens, renormalise rows, the mean over heads
  function layerView(p, hide, renorm) {
    const n = p.size;
    const keep = hide ? p.visible : [...Array(n).keys()];
    const m = keep.length;
    const heads = [];
    const mean = new Float64Array(m * m);
    for (let k = 0; k < p.heads; k++) {
      const out = new Float64Array(m * m);
      for (let i = 0; i < m; i++) {
        const base = k * n * n + keep[i] * n;
        // two scales per row: its largest value on the visible tokens, and on [CLS]/[SEP]
        const at = 2 * (k * n + keep[i]);
        const onVisible = p.rowScales[at] / 65535;
        const onSpecial = p.rowScales[at + 1] / 65535;
        let sum = 0;
        for (let j = 0; j < m; j++) sum += out[i * m + j] = p.values[base + keep[j]] * (p.special[keep[j]] ? onSpecial : onVisible);
        if (renorm) for (let j = 0; j < m; j++) out[i * m + j] /= Math.max(sum, 1e-12);
      }
      for (let c = 0; c < m * m; c++) mean[c] += out[c] / p.heads;
      heads.push(out);
    }
    // views.unique_labels: a categorical axis would merge two "the"
    const seen = new Set();
    const unique = keep.map((index) => {
      let label = String(p.labels[index]);
      while (seen.has(label)) label += "\u200b";
      seen.add(label);
      return label;
    });
    return { keep, size: m, heads, mean, unique };
  }
}
