// The Attention tab's head and query redraws, in the page: no server round trip (issue 11).
// Wired through gradio's `js=` with no Python function, so gradio sends nothing to the server.
// Inputs: the layer pack (JSON text of present.attention.ClientLayer.payload, rendered in the
// page's language), the head slider, the query dropdown, the current share line. Returns the
// share line of the head drawn (or the current one when nothing is drawn).
// It redraws a figure only when the figure's layout.meta is the pack's stamp: the pack then
// belongs to the text, model, layer and toggles on screen; otherwise the server's figures stay.
(pack, head, query, share) => {
  const plotly = window.Plotly; // set by gradio's plot component when it first draws
  if (!pack || !plotly) return share;
  let cached = window.__attentionPack;
  if (!cached || cached.raw !== pack) {
    const data = JSON.parse(pack);
    const text = atob(data.cells);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    data.values = new Uint16Array(bytes.buffer); // little-endian, as the server wrote it
    cached = window.__attentionPack = { raw: pack, data };
  }
  const p = cached.data;
  const h = Math.round(Number(head));
  if (!(h >= 0 && h < p.heads)) return share;
  const plot = (id) => document.querySelector(`#${id} div[data-testid="plotly"]`);
  const headPlot = plot("att-head-plot");
  const rowPlot = plot("att-row-plot");
  const current = (gd) => gd && gd.layout && gd.layout.meta === p.stamp;
  if (!current(headPlot) || !current(rowPlot)) return share;
  const n = p.size;
  const scale = p.top / 65535;
  const base = h * n * n;
  const z = new Array(n);
  for (let r = 0; r < n; r++) {
    const row = new Array(n);
    for (let c = 0; c < n; c++) row[c] = p.values[base + r * n + c] * scale;
    z[r] = row;
  }
  // The server draws the first visible token when the chosen query is hidden.
  let q = p.keep.indexOf(Number(query));
  if (q < 0) q = 0;
  const rowTitle = p.row_titles[h].split("{token}").join(p.labels[q]);
  Promise.all([
    plotly.update(headPlot, { z: [z], zmax: [p.zmax[h]] }, { "title.text": p.head_titles[h] }),
    plotly.update(rowPlot, { y: [z[q]] }, { "title.text": rowTitle }),
  ]).then(() =>
    requestAnimationFrame(() => {
      // read by the browser tests and benchmarks: how many redraws, and when the last one was painted
      window.__attentionRedraws = (window.__attentionRedraws || 0) + 1;
      window.__attentionPainted = performance.now();
    })
  );
  return p.shares[h];
}
