// The local farm's dashboard: plain ES modules, no build step. Two views
// (#/ and #/builds/:id), both rendered from the JSON API and refreshed on the
// server's `build` events (with a slow poll as a fallback).

import { renderAnsi } from './ansi.js';

const app = document.getElementById('app');
const farmInfo = document.getElementById('farm-info');

/** Creates an element; children are nodes or text (text is never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'style') el.setAttribute('style', value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw Object.assign(new Error(`${url}: HTTP ${response.status}`), { status: response.status });
  return response.json();
}

// --- formatting --------------------------------------------------------------

function usd(value) {
  if (value === null || value === undefined) return '—';
  if (value === 0) return '$0';
  if (value < 0.01) return `$${value.toFixed(value < 0.0001 ? 6 : 4)}`;
  return `$${value.toFixed(value < 1 ? 3 : 2)}`;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return `${minutes} min ${rest} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function ago(iso) {
  if (!iso) return '—';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function shortRef(ref) {
  return ref.replace(/^refs\/heads\//, '').replace(/^refs\/tags\//, 'tag ').replace(/^refs\/pull\/(\d+)\/head$/, 'PR #$1');
}

function size(stage) {
  if (stage.runner === 'lambda' && stage.lambda) {
    return `${stage.lambda.memoryMB} MB · ${stage.lambda.ephemeralStorageMB} MB /tmp · ${stage.lambda.architecture}`;
  }
  if (stage.fargate) {
    const vcpu = stage.fargate.cpu / 1024;
    const memory = stage.fargate.memory >= 1024 ? `${stage.fargate.memory / 1024} GB` : `${stage.fargate.memory} MiB`;
    return `${vcpu} vCPU · ${memory} · ${stage.fargate.ephemeralStorageGiB} GiB disk${stage.fargate.spot ? ' · spot' : ''}`;
  }
  return '';
}

const STATUS_LABEL = {
  queued: 'Queued', running: 'Running', pending: 'Pending', succeeded: 'Passed', failed: 'Failed', timed_out: 'Timed out',
  skipped: 'Skipped', cancelled: 'Cancelled', error: 'Error', interrupted: 'Interrupted', refused: 'Refused',
};

function pill(status) {
  return h('span', { class: `pill pill-${status}` }, h('span', { class: 'dot' }), STATUS_LABEL[status] ?? status);
}

function runnerBadge(runner, escalated) {
  return h('span', { class: `runner runner-${runner}` }, runner === 'lambda' ? 'λ Lambda' : 'Fargate', escalated ? ' ↑' : '');
}

// --- views -------------------------------------------------------------------

let current = { view: null, id: null };
let renderToken = 0;

async function renderList() {
  const token = ++renderToken;
  const builds = await getJson('/api/builds');
  if (token !== renderToken) return;
  const content = builds.length === 0 ? emptyState() : buildTable(builds);
  app.replaceChildren(
    h('div', { class: 'page-head' },
      h('h1', {}, 'Builds'),
      h('span', { class: 'muted' }, builds.length === 1 ? '1 build' : `${builds.length} builds`)),
    builds.length > 0 ? listStats(builds) : null,
    content,
  );
  return builds.some((b) => b.status === 'running' || b.status === 'queued');
}

function listStats(builds) {
  const finished = builds.filter((b) => b.status === 'succeeded' || b.status === 'failed');
  const passed = finished.filter((b) => b.status === 'succeeded').length;
  const active = builds.filter((b) => b.status === 'running' || b.status === 'queued').length;
  const spent = builds.reduce((sum, b) => sum + (b.totalCostUsd ?? 0), 0);
  const durations = finished.map((b) => b.durationMs).filter((d) => d !== null).sort((a, b) => a - b);
  const median = durations.length ? durations[Math.floor(durations.length / 2)] : null;
  return h('div', { class: 'stats' },
    stat('Running now', String(active), active === 1 ? '1 build in progress' : `${active} builds in progress`),
    stat('Pass rate', finished.length ? `${Math.round((passed / finished.length) * 100)}%` : '—', `${passed} of ${finished.length} finished builds`),
    stat('Median duration', duration(median), 'of finished builds'),
    stat('Spent', usd(spent), 'estimated AWS cost of all builds'));
}

function emptyState() {
  const info = window.__farm;
  const url = `${location.origin}${info?.webhookPath ?? '/webhook'}`;
  return h('div', { class: 'card empty' },
    h('h2', {}, 'No builds yet'),
    h('p', {}, 'Point a GitHub webhook (push and pull_request, content type application/json) at ',
      h('code', {}, url), ', or send a signed test delivery with curl (see docs/local-farm.md).'),
    info && info.repositories.length > 0
      ? h('p', { class: 'muted' }, 'Mapped repositories: ', info.repositories.map((r) => r.repository).join(', '))
      : h('p', { class: 'muted' }, 'No repositories mapped yet: start with --repo OWNER/NAME=PATH.'));
}

function buildTable(builds) {
  const rows = builds.map((b) =>
    h('tr', { class: 'clickable', 'data-build': b.id, onclick: () => { location.hash = `#/builds/${encodeURIComponent(b.id)}`; } },
      h('td', {}, pill(b.status)),
      h('td', { class: 'repo-cell' }, h('a', { href: `#/builds/${encodeURIComponent(b.id)}`, class: 'repo' }, b.repository),
        b.title ? h('div', { class: 'title muted', title: b.title }, b.title) : null),
      h('td', {}, h('span', { class: 'ref' }, shortRef(b.ref))),
      h('td', {}, h('code', { class: 'sha' }, b.sha.slice(0, 7))),
      h('td', { class: 'muted', title: b.startedAt }, ago(b.startedAt)),
      h('td', { class: 'num' }, duration(b.durationMs)),
      h('td', { class: 'num cost' }, usd(b.totalCostUsd))));
  return h('div', { class: 'card table-card' },
    h('table', { class: 'builds' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Status'), h('th', {}, 'Repository'), h('th', {}, 'Ref'), h('th', {}, 'Commit'),
        h('th', {}, 'Started'), h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Cost'))),
      h('tbody', {}, rows)));
}

async function renderBuild(id) {
  const token = ++renderToken;
  let build;
  try {
    build = await getJson(`/api/builds/${encodeURIComponent(id)}`);
  } catch (error) {
    if (token !== renderToken) return false;
    app.replaceChildren(h('div', { class: 'card empty' }, h('h2', {}, 'Build not found'), h('p', {}, h('a', { href: '#/' }, 'Back to builds'))));
    return false;
  }
  if (token !== renderToken) return false;
  const scrollY = window.scrollY;
  const openLog = logState.stage ?? defaultLogStage(build);
  app.replaceChildren(
    buildHeader(build),
    summaryCards(build),
    section('Stages', 'In waves: a wave starts when everything it needs has finished.', stageGraph(build)),
    section('Timeline', 'Wall-clock time of each stage, coloured by runner.', timeline(build)),
    section('Runners and costs', 'Where each stage ran, at what size, why, and what it cost.', stageTable(build)),
    section('Logs', null, logPanel(build)),
    section('Cost report', 'The message the report step published to the BuildReports topic.', reportMessage(build)),
  );
  window.scrollTo(0, scrollY);
  requestAnimationFrame(drawEdges);
  if (openLog) showLog(build, openLog, false);
  return build.status === 'running' || build.status === 'queued';
}

function section(title, subtitle, body) {
  return h('section', { class: 'card section', 'data-section': title.toLowerCase() },
    h('div', { class: 'section-head' }, h('h2', {}, title), subtitle ? h('span', { class: 'muted' }, subtitle) : null),
    body);
}

function buildHeader(build) {
  const message = (build.request.message || '').split('\n')[0];
  return h('div', { class: 'build-head' },
    h('a', { href: '#/', class: 'back' }, '← Builds'),
    h('div', { class: 'title-row' },
      h('h1', {}, build.repository),
      pill(build.status)),
    h('div', { class: 'meta' },
      h('span', { class: 'ref' }, shortRef(build.ref)),
      h('code', { class: 'sha', title: build.sha }, build.sha.slice(0, 12)),
      message ? h('span', { class: 'message' }, message) : null,
      h('span', { class: 'muted' }, `${build.request.event === 'pull_request' ? 'pull request' : 'push'} by ${build.request.sender || 'unknown'} · ${ago(build.startedAt)}`)),
    build.error ? h('div', { class: 'error-box' }, h('strong', {}, build.error.name), ': ', build.error.message) : null,
    // Why nothing ran: the farm's refusal (fork policy, cost limit) names the setting and the figures.
    build.status === 'refused' && build.report?.reason ? h('div', { class: 'error-box refused-box' }, h('strong', {}, 'Refused'), ': ', build.report.reason) : null);
}

function summaryCards(build) {
  const report = build.report;
  const lambda = build.stages.filter((st) => st.runner === 'lambda').length;
  const fargate = build.stages.filter((st) => st.runner === 'fargate').length;
  const saving = report && report.allFargateCostUsd > 0 ? 1 - report.totalCostUsd / report.allFargateCostUsd : null;
  return h('div', { class: 'stats' },
    stat('Total cost', usd(report ? report.totalCostUsd : null), report ? `predicted ${usd(report.predictedCostUsd)}` : 'when the build ends'),
    stat('All on Fargate', usd(report ? report.allFargateCostUsd : null),
      saving === null ? '—' : saving >= 0 ? `${Math.round(saving * 100)}% saved by mixing runners` : `${Math.round(-saving * 100)}% more than all-Fargate`,
      saving !== null && saving >= 0 ? 'good' : null),
    stat('Duration', duration(build.durationMs), build.finishedAt ? `finished ${ago(build.finishedAt)}` : 'so far'),
    stat('Stages', String(build.stages.length), `${lambda} on Lambda · ${fargate} on Fargate`));
}

function stat(label, value, note, tone) {
  return h('div', { class: 'card stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value),
    h('div', { class: `stat-note ${tone ?? ''}` }, note));
}

function waves(build) {
  if (build.plan) return build.plan.waves;
  const byWave = new Map();
  for (const stage of build.stages) byWave.set(stage.wave, [...(byWave.get(stage.wave) ?? []), stage.name]);
  return [...byWave.entries()].sort((a, b) => a[0] - b[0]).map(([, names]) => names);
}

function stageGraph(build) {
  if (build.stages.length === 0) {
    if (build.report) return h('p', { class: 'muted' }, `No stage ran${build.report.reason ? `: ${build.report.reason}` : '.'}`);
    return h('p', { class: 'muted' }, build.status === 'queued' ? 'Waiting to start.' : 'Planning…');
  }
  const byName = new Map(build.stages.map((st) => [st.name, st]));
  const columns = waves(build).map((names, index) =>
    h('div', { class: 'wave' },
      h('div', { class: 'wave-label' }, `Wave ${index + 1}`),
      names.map((name) => byName.get(name)).filter(Boolean).map((stage) =>
        h('button', { class: `stage-node status-${stage.status}`, 'data-stage': stage.name, 'data-needs': stage.needs.join(','), type: 'button', onclick: () => showLog(build, stage.name, true) },
          h('div', { class: 'node-top' }, h('span', { class: 'node-name' }, stage.name), statusIcon(stage.status)),
          h('div', { class: 'node-mid' }, runnerBadge(stage.runner, stage.escalated), h('span', { class: 'muted' }, duration(elapsed(stage)))),
          h('div', { class: 'node-size muted' }, size(stage)),
          stage.needs.length ? h('div', { class: 'node-needs muted' }, `needs ${stage.needs.join(', ')}`) : null))));
  const skipped = build.plan?.skipped ?? [];
  return h('div', {},
    h('div', { class: 'graph' }, columns),
    skipped.length ? h('p', { class: 'muted small' }, 'Skipped by if: ', skipped.map((sk) => `${sk.name} (${sk.reason})`).join('; ')) : null);
}

/** A finished stage's duration, or how long a running one has run so far. */
function elapsed(stage) {
  if (stage.status === 'skipped' || stage.status === 'pending') return null;
  if (stage.durationMs !== undefined && stage.durationMs !== null) return stage.durationMs;
  if (stage.status === 'running' && stage.startedAt) return Math.max(0, Date.now() - Date.parse(stage.startedAt));
  return null;
}

/**
 * Draws the `needs` edges between stage nodes: an SVG over the graph, from the
 * right edge of each need to the left edge of its dependent. Run after layout
 * (and on resize), since it measures the nodes.
 */
function drawEdges() {
  const graph = document.querySelector('.graph');
  if (!graph) return;
  graph.querySelector('svg.edges')?.remove();
  graph.style.paddingBottom = '';
  if (getComputedStyle(graph).flexDirection === 'column') return; // stacked on a phone: no room for edges
  const box = graph.getBoundingClientRect();
  const local = (rect) => ({ left: rect.left - box.left + graph.scrollLeft, right: rect.right - box.left + graph.scrollLeft, top: rect.top - box.top, bottom: rect.bottom - box.top });
  const waves = [...graph.querySelectorAll('.wave')];
  const waveOf = new Map();
  const nodes = new Map();
  waves.forEach((wave, index) => {
    for (const el of wave.querySelectorAll('.stage-node')) {
      nodes.set(el.dataset.stage, el);
      waveOf.set(el.dataset.stage, index);
    }
  });
  const paths = [];
  let lowest = 0;
  for (const [name, el] of nodes) {
    for (const need of (el.dataset.needs || '').split(',').filter(Boolean)) {
      const from = nodes.get(need);
      if (!from) continue;
      const a = local(from.getBoundingClientRect());
      const b = local(el.getBoundingClientRect());
      const x1 = a.right, y1 = (a.top + a.bottom) / 2, x2 = b.left - 2, y2 = (b.top + b.bottom) / 2;
      const between = waves.slice(waveOf.get(need) + 1, waveOf.get(name));
      let d;
      if (between.length === 0) {
        const mid = (x1 + x2) / 2;
        d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
      } else {
        // Skips a wave: go around below that wave's stages instead of behind them.
        const first = local(between[0].getBoundingClientRect());
        const last = local(between[between.length - 1].getBoundingClientRect());
        const under = Math.max(...between.flatMap((w) => [...w.querySelectorAll('.stage-node')].map((n) => local(n.getBoundingClientRect()).bottom))) + 14;
        lowest = Math.max(lowest, under);
        const inA = (x1 + first.left) / 2, inB = (last.right + x2) / 2;
        d = `M${x1},${y1} C${inA},${y1} ${inA},${under} ${first.left},${under} L${last.right},${under} C${inB},${under} ${inB},${y2} ${x2},${y2}`;
      }
      const state = from.className.match(/status-(\w+)/)?.[1] ?? 'pending';
      paths.push(s('path', { d, class: `edge edge-${state}` }));
      paths.push(s('path', { d: `M${x2 - 6},${y2 - 4} L${x2},${y2} L${x2 - 6},${y2 + 4}`, class: `edge-head edge-${state}` }));
    }
  }
  const height = graph.scrollHeight;
  if (lowest + 8 > height) graph.style.paddingBottom = `${lowest + 8 - height + 4}px`;
  graph.prepend(s('svg', { class: 'edges', width: graph.scrollWidth, height: Math.max(height, lowest + 8), 'aria-hidden': 'true' }, paths));
}
window.addEventListener('resize', () => requestAnimationFrame(drawEdges));

function statusIcon(status) {
  const icons = { succeeded: '✓', failed: '✕', timed_out: '⏱', cancelled: '⊘', skipped: '↷', running: '', pending: '' };
  return h('span', { class: `status-icon status-${status}`, title: STATUS_LABEL[status] ?? status }, icons[status] ?? '');
}

function timeline(build) {
  const ran = (st) => st.startedAt && st.status !== 'skipped';
  const stages = build.stages.filter(ran);
  if (stages.length === 0) return h('p', { class: 'muted' }, 'No stage has started yet.');
  const start = Math.min(...stages.map((st) => Date.parse(st.startedAt)), build.startedAt ? Date.parse(build.startedAt) : Infinity);
  const end = Math.max(...stages.map((st) => (st.finishedAt ? Date.parse(st.finishedAt) : Date.now())), start + 1);
  const span = end - start;
  const ticks = niceTicks(span);
  const rows = [...build.stages].sort((a, b) => (a.startedAt ?? '9').localeCompare(b.startedAt ?? '9')).map((stage) => {
    let bar = null;
    if (ran(stage)) {
      const left = ((Date.parse(stage.startedAt) - start) / span) * 100;
      const right = ((stage.finishedAt ? Date.parse(stage.finishedAt) : Date.now()) - start) / span * 100;
      bar = h('div', {
        class: `bar bar-${stage.runner} ${stage.status === 'running' ? 'bar-running' : ''} ${stage.status === 'failed' || stage.status === 'timed_out' ? 'bar-failed' : ''}`,
        style: `left:${left.toFixed(2)}%;width:${Math.max(0.6, right - left).toFixed(2)}%`,
        title: `${stage.name}: ${duration(stage.durationMs ?? (Date.now() - Date.parse(stage.startedAt)))} on ${stage.runner}`,
      }, h('span', { class: 'bar-label' }, duration(elapsed(stage))));
    }
    return h('div', { class: 'gantt-row', 'data-stage': stage.name },
      h('div', { class: 'gantt-name' }, stage.name),
      h('div', { class: 'gantt-track' }, ticks.map((t) => h('div', { class: 'gridline', style: `left:${(t / span) * 100}%` })), bar));
  });
  // Before the first stage: snapshot and planning, so the empty start of the axis explains itself.
  const firstStage = Math.min(...stages.map((st) => Date.parse(st.startedAt)));
  const planRow = firstStage - start > span * 0.02
    ? h('div', { class: 'gantt-row gantt-plan' },
      h('div', { class: 'gantt-name muted' }, 'plan'),
      h('div', { class: 'gantt-track' }, ticks.map((t) => h('div', { class: 'gridline', style: `left:${(t / span) * 100}%` })),
        h('div', { class: 'bar bar-plan', style: `left:0;width:${(((firstStage - start) / span) * 100).toFixed(2)}%`, title: 'snapshot the source and plan' },
          h('span', { class: 'bar-label' }, duration(firstStage - start)))))
    : null;
  return h('div', { class: 'gantt' },
    planRow,
    rows,
    h('div', { class: 'gantt-row gantt-axis' }, h('div', { class: 'gantt-name' }),
      h('div', { class: 'gantt-track' }, ticks.map((t) => h('span', { class: 'tick', style: `left:${(t / span) * 100}%` }, duration(t))))),
    h('div', { class: 'legend' },
      h('span', {}, h('i', { class: 'swatch bar-lambda' }), 'Lambda'),
      h('span', {}, h('i', { class: 'swatch bar-fargate' }), 'Fargate')));
}

function niceTicks(span) {
  const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
  const step = steps.find((st) => span / st <= 6) ?? 3600000;
  const ticks = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  return ticks;
}

/** What right-sizing would save on this stage: the report's (this run) or else the plan's (history). */
function rightSizingOf(build, name) {
  const fromReport = (build.report?.rightSizing ?? []).find((r) => r.stage === name);
  const fromPlan = (build.plan?.stages ?? []).find((s) => s.name === name)?.rightSizing;
  const r = fromReport ?? fromPlan;
  if (!r) return null;
  // A larger size (the stage uses all its CPU or nearly all its memory) adds cost at the same duration, at most.
  const effect = r.direction === 'larger' ? `needs more room: adds at most ${usd(-r.savingUsd)} a run` : `would save ${usd(r.savingUsd)} a run`;
  return h('div', { class: 'small right-sizing', title: r.basis }, `${r.recommended} ${effect}`);
}

function stageTable(build) {
  const report = build.report;
  const byName = new Map((report?.stages ?? []).map((st) => [st.name, st]));
  const maxCost = Math.max(...build.stages.map((st) => st.costUsd ?? st.predictedCostUsd ?? 0), 1e-12);
  const rows = build.stages.map((stage) => {
    const reported = byName.get(stage.name);
    const cost = stage.costUsd ?? null;
    return h('tr', { 'data-stage': stage.name },
      h('td', {}, h('div', { class: 'stage-cell' }, statusIcon(stage.status), h('strong', {}, stage.name))),
      h('td', {}, runnerBadge(stage.runner, stage.escalated), h('div', { class: 'small muted' }, size(stage))),
      h('td', { class: 'reason' }, stage.reason || '—', outcomeLine(stage, reported), cacheLine(reported), usageLine(reported)),
      h('td', { class: 'num' }, stage.status === 'skipped' ? h('span', { class: 'muted' }, 'skipped') : duration(elapsed(stage)),
        reported && reported.status !== 'skipped' ? h('div', { class: 'small muted' }, `billed ${duration(reported.billedDurationMs)}`) : null),
      h('td', { class: 'num' },
        h('div', { class: 'cost' }, usd(cost)),
        h('div', { class: 'small muted' }, `predicted ${usd(stage.predictedCostUsd)}`),
        rightSizingOf(build, stage.name),
        h('div', { class: 'costbar' }, h('i', { class: `bar-${stage.runner}`, style: `width:${(((cost ?? stage.predictedCostUsd) / maxCost) * 100).toFixed(1)}%` }))),
      h('td', {}, artifactLinks(build, reported)));
  });
  const table = h('div', { class: 'table-scroll' }, h('table', { class: 'stages' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Stage'), h('th', {}, 'Runner and size'), h('th', {}, 'Why'), h('th', { class: 'num' }, 'Duration'),
      h('th', { class: 'num' }, 'Cost'), h('th', {}, 'Artifacts'))),
    h('tbody', {}, rows)));
  return h('div', {}, table, report ? costBreakdown(report) : null);
}

/** How the stage ended, under the reason it ran where it did: errors stand out. */
function outcomeLine(stage, reported) {
  const errorName = reported?.errorName ?? stage.errorName;
  if (errorName) {
    const exit = reported && reported.exitCode !== null && reported.exitCode !== undefined ? ` (exit ${reported.exitCode})` : '';
    return h('div', { class: 'small error-text' }, `${errorName}${exit}${stage.outcome ? `: ${stage.outcome}` : ''}`);
  }
  return stage.outcome ? h('div', { class: 'small muted' }, stage.outcome) : null;
}

/** What the stage measured: peak memory, and CPU seconds with the average and peak vCPUs where measured. */
function usageLine(reported) {
  if (!reported || reported.status === 'skipped') return null;
  const cpu = reported.cpuUsage;
  const memory = reported.peakMemoryMiB > 0 ? `peak ${reported.peakMemoryMiB} MiB` : '';
  const cpuText = cpu ? `CPU ${cpu.seconds.toFixed(1)} s, average ${cpu.averageVcpu.toFixed(2)} / peak ${cpu.peakVcpu.toFixed(2)} vCPU` : '';
  const text = [memory, cpuText].filter(Boolean).join(' · ');
  return text ? h('div', { class: 'small muted usage' }, text) : null;
}

/** The stage's dependency cache: hit, fallback (from which key and branch) or miss, and the bytes moved. */
function cacheLine(reported) {
  const cache = reported?.cache;
  if (!cache) return null;
  const from = cache.restoredFrom ? ` from ${cache.restoredFrom.key} (${cache.restoredFrom.branch})` : '';
  const down = cache.result === 'miss' ? '' : `, ${bytes(cache.restoredBytes)} restored`;
  const saved = cache.saved ? `; saved ${bytes(cache.saved.bytes)} to ${cache.saved.branch}` : cache.notSaved ? `; not saved: ${cache.notSaved}` : '';
  return h('div', { class: `small cache cache-${cache.result}`, 'data-cache': cache.result }, `cache ${cache.key}: ${cache.result}${from}${down}${saved}`);
}

function artifactLinks(build, reported) {
  if (!reported || reported.artifacts.length === 0) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'artifacts' }, reported.artifacts.map((artifact) =>
    h('li', {}, h('a', {
      href: `/api/builds/${encodeURIComponent(build.id)}/stages/${encodeURIComponent(reported.name)}/artifacts/${artifact.path.split('/').map(encodeURIComponent).join('/')}`,
      download: artifact.path.split('/').pop(),
      title: artifactTitle(artifact),
    }, artifact.path), h('span', { class: 'muted small' }, artifact.type === 'symlink' ? ` → ${artifact.target}` : ` ${bytes(artifact.size)}`))));
}

/** Mode and kind (`-rwxr-xr-x`, a link's target); older manifests carried a per-file sha256 instead. */
function artifactTitle(artifact) {
  if (artifact.sha256) return `sha256 ${artifact.sha256}`;
  if (artifact.mode === undefined) return artifact.path;
  const bits = 'rwxrwxrwx'.split('').map((letter, i) => (artifact.mode & (0o400 >> i) ? letter : '-')).join('');
  return artifact.type === 'symlink' ? `link to ${artifact.target}` : `-${bits}`;
}

function costBreakdown(report) {
  const b = report.costBreakdown;
  const rows = [
    ['Compute (Lambda and Fargate, per second)', b.computeUsd],
    [`Step Functions state transitions (${b.stateTransitions})`, b.stateTransitionsUsd],
    [`S3 requests (${b.s3Requests})`, b.s3RequestsUsd],
  ];
  const diff = report.allFargateCostUsd - report.totalCostUsd;
  return h('div', { class: 'breakdown' },
    h('table', { class: 'cost-table' },
      h('tbody', {},
        rows.map(([label, value]) => h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, usd(value)))),
        h('tr', { class: 'total' }, h('td', {}, 'Total'), h('td', { class: 'num' }, usd(report.totalCostUsd))),
        h('tr', {}, h('td', { class: 'muted' }, 'The same stages all on Fargate'), h('td', { class: 'num muted' }, usd(report.allFargateCostUsd))),
        h('tr', {}, h('td', { class: diff >= 0 ? 'good' : 'bad' }, diff >= 0 ? 'Saved by running short stages on Lambda' : 'Extra over all-Fargate'),
          h('td', { class: `num ${diff >= 0 ? 'good' : 'bad'}` }, usd(Math.abs(diff)))))));
}

// --- logs ----------------------------------------------------------------------

const logState = { stage: null, timer: null };

/** The log worth seeing first: a failed stage's, else a running one's, else the last to finish. */
function defaultLogStage(build) {
  const pick = (status) => build.stages.find((st) => st.status === status)?.name;
  const finished = build.stages.filter((st) => st.finishedAt).sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  return pick('failed') ?? pick('timed_out') ?? pick('running') ?? finished.at(-1)?.name ?? null;
}

function logPanel(build) {
  const started = build.stages.filter((st) => st.status !== 'pending');
  if (started.length === 0) return h('p', { class: 'muted' }, 'Logs appear here as stages run.');
  return h('div', { class: 'logs' },
    h('div', { class: 'log-tabs', role: 'tablist' }, started.map((stage) =>
      h('button', { type: 'button', role: 'tab', class: `log-tab ${logState.stage === stage.name ? 'active' : ''}`, 'data-stage': stage.name, onclick: () => showLog(build, stage.name, false) },
        statusIcon(stage.status), stage.name))),
    h('pre', { class: 'log', id: 'log' }, logState.stage ? '' : 'Choose a stage to see its log.'));
}

async function showLog(build, stageName, scroll) {
  logState.stage = stageName;
  clearTimeout(logState.timer);
  for (const tab of document.querySelectorAll('.log-tab')) tab.classList.toggle('active', tab.dataset.stage === stageName);
  const pre = document.getElementById('log');
  if (!pre) return;
  if (scroll) pre.scrollIntoView({ block: 'center' });
  const stage = build.stages.find((st) => st.name === stageName);
  const follow = async () => {
    // Only the last MiB is shown: a log may be up to its cap (64 MiB by default); the rest is a download away.
    const logUrl = `/api/builds/${encodeURIComponent(build.id)}/stages/${encodeURIComponent(stageName)}/log`;
    const response = await fetch(logUrl, { cache: 'no-store', headers: { range: `bytes=-${LOG_VIEW_BYTES}` } });
    let text = response.ok ? await response.text() : stage?.status === 'running' ? '(waiting for output…)' : '(no log for this stage)';
    const shown = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') || '');
    if (response.status === 206 && shown && Number(shown[1]) > 0) text = `(the first ${shown[1]} of ${shown[2]} bytes are not shown here; the whole log is at ${logUrl})\n` + text;
    const target = document.getElementById('log');
    if (!target || logState.stage !== stageName) return;
    const atBottom = target.scrollTop + target.clientHeight >= target.scrollHeight - 8;
    renderAnsi(target, text || '(empty)');
    if (atBottom) target.scrollTop = target.scrollHeight;
    if (stage?.status === 'running') logState.timer = setTimeout(follow, 1000);
  };
  await follow();
}

/** Bytes of a stage log the page shows (the end of it). */
const LOG_VIEW_BYTES = 1024 * 1024;

function reportMessage(build) {
  const message = build.reportMessage;
  if (!message) return h('p', { class: 'muted' }, build.status === 'running' || build.status === 'queued' ? 'Published when the build ends.' : 'No report message was published for this build.');
  let body = message.message;
  try { body = JSON.stringify(JSON.parse(message.message), null, 2); } catch { /* shown as sent */ }
  return h('div', {},
    h('dl', { class: 'msg-meta' },
      h('dt', {}, 'Topic'), h('dd', {}, message.topic),
      h('dt', {}, 'Message ID'), h('dd', {}, h('code', {}, message.messageId)),
      h('dt', {}, 'Published'), h('dd', {}, new Date(message.publishedAt).toLocaleString()),
      Object.keys(message.attributes).length ? [h('dt', {}, 'Attributes'), h('dd', {}, Object.entries(message.attributes).map(([k, v]) => h('span', { class: 'attr' }, `${k}=${v}`)))] : null),
    h('details', { class: 'json-details', open: true },
      h('summary', {}, `Message body (${bytes(new TextEncoder().encode(message.message).length)})`),
      h('pre', { class: 'json' }, body)));
}

// --- routing and live updates ---------------------------------------------------

async function render() {
  const match = /^#\/builds\/(.+)$/.exec(location.hash);
  const view = match ? 'build' : 'list';
  const id = match ? decodeURIComponent(match[1]) : null;
  if (view !== current.view || id !== current.id) {
    logState.stage = null;
    window.scrollTo(0, 0);
  }
  current = { view, id };
  document.body.dataset.view = view;
  try {
    const live = view === 'build' ? await renderBuild(id) : await renderList();
    schedulePoll(live);
  } catch (error) {
    app.replaceChildren(h('div', { class: 'card empty' }, h('h2', {}, 'The farm is not answering'), h('p', { class: 'muted' }, String(error.message ?? error))));
    schedulePoll(true);
  }
}

let pollTimer = null;
function schedulePoll(live) {
  clearTimeout(pollTimer);
  // Events drive updates; this poll only covers a dropped event stream (and ticking durations).
  pollTimer = setTimeout(render, live ? 2000 : 15000);
}

let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; render(); }, 250);
}

function connectEvents() {
  const events = new EventSource('/api/events');
  events.addEventListener('build', (event) => {
    const summary = JSON.parse(event.data);
    if (current.view === 'list' || summary.id === current.id) refreshSoon();
  });
}

async function loadFarmInfo() {
  try {
    const info = await getJson('/api/farm');
    window.__farm = info;
    // Spend against each budget the farm was started with (--daily-budget and the others).
    const budgets = (info.budgets ?? []).map((b) =>
      h('span', { class: `budget sep${b.spentUsd > b.limitUsd * 0.9 ? ' budget-near' : ''}`, 'data-budget': b.budget },
        `${b.budget}: ${usd(b.spentUsd)} of ${usd(b.limitUsd)}${b.heldUsd > 0 ? ` (${usd(b.heldUsd)} held by running builds)` : ''}`));
    farmInfo.replaceChildren(
      h('span', { class: 'muted' }, 'Webhook '), h('code', {}, `${location.origin}${info.webhookPath}`),
      h('span', { class: 'muted sep' }, `${info.repositories.length} ${info.repositories.length === 1 ? 'repository' : 'repositories'} · ${info.region}`),
      ...budgets);
  } catch { /* the header stays empty */ }
}

window.addEventListener('hashchange', render);
await loadFarmInfo();
connectEvents();
render();
