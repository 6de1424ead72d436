// The MoMA dashboard: polls /v1/admin/dashboard (same origin, same credentials as the page) and draws it with plain
// DOM and SVG. No framework and nothing loaded from anywhere else.
const POLL_MS = 3000;
const COLORS = ['#4fd1a5', '#5aa9e6', '#e6b450', '#c678dd', '#ef6b6b', '#56b6c2', '#d19a66', '#98c379', '#e06c75', '#61afef'];
const NS = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

const usd = (v) => (Math.abs(v) >= 1 ? `$${v.toFixed(2)}` : Math.abs(v) >= 0.01 ? `$${v.toFixed(4)}` : `$${v.toPrecision(2)}`);
const ms = (v) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);
const pct = (v) => `${(v * 100).toFixed(1)}%`;
const ago = (t) => {
  const s = Math.max(0, (Date.now() - t) / 1000);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
};

function el(tag, attrs = {}, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

/** Fills a table body with `rows` (arrays of cells: strings or nodes), or one "empty" row. */
function fill(tableId, rows, empty) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', { class: 'empty', colspan: $(tableId).tHead.rows[0].cells.length }, empty));
    body.append(tr);
    return;
  }
  for (const cells of rows) {
    const tr = el('tr');
    for (const c of cells) {
      const td = el('td');
      if (c instanceof Node) td.append(c);
      else td.textContent = String(c);
      if (typeof c === 'string') td.title = c;
      tr.append(td);
    }
    body.append(tr);
  }
}

const failed = (part) => part && typeof part === 'object' && 'error' in part;

function kpis(d) {
  $('kpi-requests').textContent = d.totals.requests.toLocaleString();
  $('kpi-failed').textContent = `${d.totals.failed} failed · ${d.totals.with_fallback} with a fallback`;
  $('kpi-spent').textContent = usd(d.savings.cost_usd);
  $('kpi-best').textContent = `${d.savings.llm_requests} LLM answers`;
  $('kpi-baseline').textContent = usd(d.savings.best_model_cost_usd);
  $('kpi-best-model').textContent = d.savings.best_model ? `all to ${d.savings.best_model}` : 'no best model yet';
  $('kpi-saved').textContent = usd(d.savings.saved_usd);
  $('kpi-saved-share').textContent = d.savings.best_model_cost_usd > 0 ? `${pct(d.savings.saved_share)} of the best single model's cost` : '';
}

function decisions(d) {
  const svg = $('chart-decisions');
  svg.replaceChildren();
  const W = 900, H = 220, pad = 28, bins = 60;
  const { targets, seconds } = d.decisions;
  const per = seconds / bins;
  // Stacked bars of 5-second bins, in decisions per second.
  const stacks = Array.from({ length: bins }, () => []);
  targets.forEach((t, ti) => {
    for (let b = 0; b < bins; b++) {
      let n = 0;
      for (let s = b * per; s < (b + 1) * per; s++) n += t.counts[s] ?? 0;
      stacks[b].push({ ti, rate: n / per });
    }
  });
  const max = Math.max(0.2, ...stacks.map((s) => s.reduce((a, x) => a + x.rate, 0)));
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  svg.append(el('svg:line', { x1: pad, x2: W, y1: H - pad, y2: H - pad, class: 'axis' }));
  for (const v of [max / 2, max]) {
    svg.append(el('svg:line', { x1: pad, x2: W, y1: y(v), y2: y(v), class: 'axis', 'stroke-dasharray': '2 4' }));
    svg.append(el('svg:text', { x: 2, y: y(v) + 3 }, v.toFixed(v < 1 ? 2 : 1)));
  }
  svg.append(el('svg:text', { x: pad, y: H - 8 }, `−${seconds / 60} min`));
  svg.append(el('svg:text', { x: W - 24, y: H - 8 }, 'now'));
  const bw = (W - pad) / bins;
  stacks.forEach((s, b) => {
    let base = 0;
    for (const { ti, rate } of s) {
      if (rate <= 0) continue;
      const h = (rate / max) * (H - 2 * pad);
      svg.append(el('svg:rect', { x: pad + b * bw + 1, y: y(base) - h, width: Math.max(1, bw - 2), height: h, fill: COLORS[ti % COLORS.length] }));
      base += rate;
    }
  });
  const legend = $('legend-decisions');
  legend.replaceChildren();
  if (targets.length === 0) legend.append(el('span', { class: 'muted' }, 'no decisions in the last 5 minutes'));
  targets.forEach((t, ti) => {
    const total = t.counts.reduce((a, x) => a + x, 0);
    const item = el('span');
    const swatch = el('i');
    swatch.style.background = COLORS[ti % COLORS.length]; // CSSOM, not a style attribute: the page's CSP allows no inline styles
    item.append(swatch, document.createTextNode(`${t.target} · ${total}`));
    legend.append(item);
  });
}

/** A scatter in [x0,x1]×[y0,y1] with axes; returns the coordinate mappers. */
function axes(svg, { W, H, pad, xLabel, yLabel, x0, x1, y0, y1, logX }) {
  svg.replaceChildren();
  const lx = (v) => (logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const X = (v) => pad + ((lx(v) - lx(x0)) / (lx(x1) - lx(x0) || 1)) * (W - 2 * pad);
  const Y = (v) => H - pad - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  svg.append(el('svg:line', { x1: pad, x2: W - pad, y1: H - pad, y2: H - pad, class: 'axis' }));
  svg.append(el('svg:line', { x1: pad, x2: pad, y1: pad, y2: H - pad, class: 'axis' }));
  svg.append(el('svg:text', { x: W / 2 - 40, y: H - 6 }, xLabel));
  svg.append(el('svg:text', { x: 4, y: 14 }, yLabel));
  return { X, Y };
}

function front(d) {
  const svg = $('chart-front');
  if (failed(d.front)) {
    svg.replaceChildren();
    $('front-note').textContent = `front unavailable: ${d.front.error}`;
    return;
  }
  const f = d.front;
  $('front-version').textContent = f.router_version;
  if (f.models.length === 0) {
    axes(svg, { W: 440, H: 260, pad: 34, xLabel: 'mean predicted cost per request (log)', yLabel: 'mean predicted quality', x0: 1e-5, x1: 1e-2, y0: 0, y1: 1, logX: true });
    $('front-note').textContent = 'no traffic scored yet: the front is drawn from the requests the router ranks';
    return;
  }
  const costs = f.models.map((m) => m.cost_usd).filter((c) => c > 0);
  const x0 = Math.min(...costs, 1e-6) / 1.5, x1 = Math.max(...costs, 1e-5) * 1.5;
  const qs = f.models.map((m) => m.quality);
  const y0 = Math.max(0, Math.min(...qs) - 0.05), y1 = Math.min(1, Math.max(...qs) + 0.05);
  const { X, Y } = axes(svg, { W: 440, H: 260, pad: 34, xLabel: 'mean predicted cost per request (log)', yLabel: 'mean predicted quality', x0, x1, y0, y1, logX: true });
  const onFront = f.models.filter((m) => m.on_front).sort((a, b) => a.cost_usd - b.cost_usd);
  svg.append(el('svg:polyline', { class: 'front', points: onFront.map((m) => `${X(m.cost_usd)},${Y(m.quality)}`).join(' ') }));
  for (const m of f.models) {
    const c = el('svg:circle', { cx: X(m.cost_usd), cy: Y(m.quality), r: 4, fill: m.on_front ? '#4fd1a5' : '#5c6773' });
    c.append(el('svg:title', {}, `${m.id}: quality ${m.quality.toFixed(3)}, ${usd(m.cost_usd)} (${m.requests} requests)`));
    svg.append(c);
    // Labels right of the point, or left of it in the right third, so none runs off the chart.
    const right = X(m.cost_usd) > 440 * 0.66;
    svg.append(
      el('svg:text', { x: X(m.cost_usd) + (right ? -6 : 6), y: Y(m.quality) - 4, 'text-anchor': right ? 'end' : 'start' }, m.id.length > 22 ? `${m.id.slice(0, 21)}…` : m.id),
    );
  }
  const marks = { quality: '#e6b450', balanced: '#5aa9e6', cost: '#c678dd' };
  for (const m of f.modes) {
    const x = X(Math.max(m.cost_usd, x0)), y = Y(m.quality);
    svg.append(el('svg:rect', { x: x - 5, y: y - 5, width: 10, height: 10, fill: 'none', stroke: marks[m.id] ?? '#fff', 'stroke-width': 2 }));
    // Mode names stacked above the chart area's top edge of each mark, so they do not sit on the model labels.
    svg.append(el('svg:text', { x, y: y - 9 - 11 * f.modes.indexOf(m), 'text-anchor': 'middle', class: `mode mode-${m.id}` }, m.id));
  }
  const used = f.modes.map((m) => `${m.id} ${m.requests}`).join(' · ');
  $('front-note').textContent = `${f.models.length} models, ${onFront.length} on the front; best single model ${f.best_model}${used ? `; modes used: ${used}` : ''}`;
}

function quality(d) {
  const q = d.quality;
  const svg = $('chart-quality');
  const { X, Y } = axes(svg, { W: 440, H: 260, pad: 34, xLabel: 'predicted quality', yLabel: 'observed (feedback)', x0: 0, x1: 1, y0: 0, y1: 1 });
  svg.append(el('svg:line', { x1: X(0), y1: Y(0), x2: X(1), y2: Y(1), class: 'diag' }));
  for (const p of q.recent) svg.append(el('svg:circle', { cx: X(p.predicted), cy: Y(p.observed), r: 3.5, fill: '#5aa9e6', 'fill-opacity': 0.8 }));
  $('quality-note').textContent = q.feedback
    ? `${q.feedback} scored answers: predicted ${q.mean_predicted.toFixed(3)} vs observed ${q.mean_observed.toFixed(3)} (mean abs. error ${q.mean_abs_error.toFixed(3)})`
    : 'no feedback yet: POST /v1/feedback {"request_id", "score"} with an answer\'s x-moma-request-id';
}

function latency(d) {
  const row = (name, r) => [name, ms(r.p50), ms(r.p90), ms(r.p99), r.samples];
  fill('table-latency', [row('end to end', d.latency.end_to_end_ms), row('decision', d.latency.decision_ms)], '');
  const modes = $('modes');
  modes.replaceChildren();
  const entries = Object.entries(d.totals.modes);
  if (entries.length === 0) modes.append(el('span', {}, 'no requests yet'));
  for (const [m, n] of entries) modes.append(el('span', {}, `${m}: ${n}`));
}

function providers(d) {
  if (failed(d.providers)) fill('table-providers', [], `provider state unavailable: ${d.providers.error}`);
  else
    fill(
      'table-providers',
      d.providers.map((p) => [p.provider, p.model, el('span', { class: `state-${p.state}` }, p.state.replace('_', ' ')), p.failures]),
      'every provider healthy (no breaker has counted a failure)',
    );
  fill('table-fallbacks', d.fallbacks.map((f) => [f.target, f.left]), 'no fallbacks');
}

function agents(d) {
  if (failed(d.agents)) return fill('table-agents', [], `registry unavailable: ${d.agents.error}`);
  fill(
    'table-agents',
    d.agents.map((a) => [el('span', { class: a.healthy ? 'dot' : 'dot off', title: a.healthy ? 'healthy' : 'unhealthy' }), a.name, a.category || '–', a.tenants.length ? a.tenants.join(', ') : 'all']),
    'no agents registered',
  );
}

function sessions(d) {
  if (failed(d.sessions)) return fill('table-sessions', [], `sessions unavailable: ${d.sessions.error}`);
  $('sessions-total').textContent = `${d.sessions.total} stored`;
  fill(
    'table-sessions',
    d.sessions.recent.map((s) => [s.session_id.slice(0, 8), s.tenant || '(default)', s.fsm_state, s.turns, s.last_served_by || '–', ago(s.updated_at_ms)]),
    'no sessions',
  );
}

async function tick() {
  const status = $('status');
  try {
    const res = await fetch('/v1/admin/dashboard', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      status.className = 'error';
      status.textContent = `HTTP ${res.status}: ${body?.error?.message ?? res.statusText}`;
      return;
    }
    const d = await res.json();
    for (const draw of [kpis, decisions, front, quality, latency, providers, agents, sessions]) {
      try {
        draw(d);
      } catch (err) {
        console.error(draw.name, err);
      }
    }
    status.className = 'muted';
    status.textContent = `updated ${new Date(d.generated_at_ms).toLocaleTimeString()} · every ${POLL_MS / 1000} s`;
    document.body.dataset.ready = 'true';
  } catch (err) {
    status.className = 'error';
    status.textContent = `gateway unreachable: ${err.message}`;
  }
}

tick();
setInterval(tick, POLL_MS);
