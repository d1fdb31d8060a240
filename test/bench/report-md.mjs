/**
 * BENCHMARKS.md: every figure of one `npm run bench` run in one document. Each figure is a median
 * with its spread (min–max, and p90 where there are enough runs), next to the baseline measured in
 * the same run, their ratio, and whether the project's aim is met. Sections whose run failed or was
 * skipped say so instead of going missing.
 */
import { writeFile } from "node:fs/promises";

const ms = (v) => (v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1));
const count = (v) => Math.round(v).toLocaleString("en-US");
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const size = (bytes) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : mb(bytes));
const times = (v) => `${v.toFixed(2)}×`;
/** A ratio held against an aim: one more digit, so that 1.203× is not shown as the aim's 1.20×. */
const ratio = (v) => `${v.toFixed(3)}×`;
const yes = (ok) => (ok ? "**met**" : "**NOT met**");
const signed = (v, unit) => `${v < 0 ? "−" : "+"}${unit(Math.abs(v))}`;

/** "median (min–max)" of a summary, in a unit. */
const spread = (s, unit = ms) => `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})`;

function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function failed(section) {
  if (!section) return "Not run.";
  if (section.error) return `This section failed in this run: \`${section.error.split("\n")[0]}\``;
  if (section.skipped) return `Skipped: ${section.skipped}.`;
  return undefined;
}

// ── the summary of aims ───────────────────────────────────────────────────────────────────────

function summaryRows({ simulator, library, panel, pageHour }) {
  const rows = [];
  if (simulator && !simulator.error) {
    const { handshake: h, throughput, config } = simulator;
    rows.push([
      "Simulator handshake (connect → nextValidId)",
      `${ms(h.simulator.median)} ms`,
      `${ms(h.floor.median)} ms (TCP connect + 2 echo trips)`,
      times(h.ratio),
      `< ${config.aims.handshakeMs} ms`,
      yes(h.simulator.median < config.aims.handshakeMs),
    ]);
    const one = throughput.find((t) => t.clients === 1);
    if (one) {
      rows.push([
        "Market data to one client",
        `${count(one.simulator.messagesPerSecond.median)} msgs/s`,
        `${count(one.ceiling.messagesPerSecond.median)} msgs/s (bare TCP server, same bytes)`,
        times(one.ratio),
        `> ${count(config.aims.messagesPerSecond)} msgs/s`,
        yes(one.simulator.messagesPerSecond.median > config.aims.messagesPerSecond),
      ]);
    }
  }
  if (library && !library.error) {
    const aim = `≤ ${times(library.aim)} raw`;
    rows.push([
      "Library connect to ready",
      `${ms(library.connect.library.median)} ms`,
      `${ms(library.connect.raw.median)} ms (raw @stoqey/ib)`,
      ratio(library.connect.ratio),
      aim,
      yes(library.connect.met),
    ]);
    for (const p of library.positions) {
      rows.push([
        `Library connect + ${count(p.positions)} positions`,
        `${ms(p.library.median)} ms`,
        `${ms(p.raw.median)} ms (raw @stoqey/ib)`,
        ratio(p.ratio),
        aim,
        yes(p.met),
      ]);
    }
    const m = library.memory;
    rows.push([
      `Library memory to hold ${count(m.positions)} positions`,
      mb(m.heapUsed.library.median),
      `${mb(m.heapUsed.raw.median)} (raw @stoqey/ib)`,
      ratio(m.heapUsed.ratio),
      aim,
      yes(m.heapUsed.met),
    ]);
  }
  if (panel && !panel.error && !panel.skipped) rows.push(...panelAimRows(panel));
  if (pageHour && !pageHour.error && !pageHour.skipped) rows.push(...pageHourAimRows(pageHour));
  return rows;
}

function pageHourAimRows({ config, heap, nodes, listeners, kernelHeap, met, ...hour }) {
  const { aims } = config;
  const run = `${count(hour.snapshots)} snapshots, ${hour.simulatedHours.toFixed(2)} h at 4/s, streamed in ${hour.streamSeconds.toFixed(0)} s`;
  return [
    [
      `Page memory over one simulated hour (${run})`,
      `heap ${signed(heap.growth, mb)} (peak ${signed(heap.peakGrowth, mb)}); DOM nodes ${signed(nodes.growth, count)}, listeners ${signed(listeners.growth, count)}`,
      `${mb(heap.start)}, ${count(nodes.start)} nodes, ${count(listeners.start)} listeners (first sample)`,
      "–",
      `heap < ${mb(aims.heapGrowthBytes)} at the end and the peak; nodes ≤ +${aims.nodesGrowth}, listeners ≤ +${aims.listenersGrowth}`,
      yes(met.heap && met.nodes && met.listeners),
    ],
    [
      "Kernel heap over the same hour",
      signed(kernelHeap.growth, mb),
      `${mb(kernelHeap.start)} (first sample)`,
      "–",
      `< ${mb(aims.kernelHeapGrowthBytes)} at the end`,
      yes(met.kernelHeap),
    ],
  ];
}

function panelAimRows({ config: { aims }, latency, render, memory }) {
  const rows = [];
  if (!latency.error) {
    const base = `${ms(latency.kernel.median)} ms (the library in the kernel hears it)`;
    const dom = latency.dom;
    rows.push(
      [
        "Fill → Orders panel, p50",
        `${ms(dom.median)} ms`,
        base,
        times(dom.median / latency.kernel.median),
        `< ${aims.latencyP50Ms} ms`,
        yes(dom.median < aims.latencyP50Ms),
      ],
      [
        "Fill → Orders panel, p99",
        `${ms(dom.p99)} ms`,
        `${ms(latency.kernel.p99)} ms (p99, same)`,
        times(dom.p99 / latency.kernel.p99),
        `< ${aims.latencyP99Ms} ms`,
        yes(dom.p99 < aims.latencyP99Ms),
      ],
    );
  }
  if (!render.error) {
    const big = render.at(-1);
    const small = render[0];
    rows.push([
      `${count(big.positions)}-position snapshot → Positions panel`,
      `${ms(big.apply.median)} ms`,
      `${ms(small.apply.median)} ms (${count(small.positions)} positions)`,
      times(big.apply.median / small.apply.median),
      `< ${aims.renderMs} ms`,
      yes(big.apply.median < aims.renderMs),
    ]);
  }
  if (!memory.error) {
    rows.push([
      `Page heap growth, ${memory.seconds.toFixed(0)} s of a changing feed`,
      mb(memory.growthBytes),
      `${mb(memory.samples[0].usedBytes)} (heap at the first sample)`,
      "–",
      `< ${mb(memory.boundBytes)}`,
      yes(memory.met),
    ]);
  }
  return rows;
}

// ── sections ─────────────────────────────────────────────────────────────────────────────────

function simulatorSection(sim) {
  const out = ["## ibkr-sim", ""];
  const why = failed(sim);
  if (why) return [...out, why];
  const h = sim.handshake;
  const { config } = sim;
  const hs = (s) => [ms(s.median), ms(s.p90), ms(s.p99), `${ms(s.min)}–${ms(s.max)}`];
  out.push(
    "Handshake, sequential, each connection with its own client id (ms):",
    "",
    table(
      ["", "n", "median", "p90", "p99", "min–max"],
      [
        ["ibkr-sim, raw client", h.simulator.n, ...hs(h.simulator)],
        ["baseline: TCP connect + 2 echo round trips", h.floor.n, ...hs(h.floor)],
        ["ibkr-sim, @stoqey/ib IBApi", h.stoqey.n, ...hs(h.stoqey)],
      ],
    ),
    "",
    `ibkr-sim / baseline, medians: ${times(h.ratio)}. Aim: under ${config.aims.handshakeMs} ms: ${yes(h.simulator.median < config.aims.handshakeMs)}.`,
    "",
    `Sustained market data (ticks), ${config.reps} runs of ${config.durationMs / 1000} s after a ${config.warmupMs / 1000} s warm-up; the simulator stepped as fast as the clients take it, every run checked to deliver all it sent. Baseline: a bare TCP server writing the simulator's own bytes to the same client process.`,
    "",
    table(
      [
        "load",
        "ibkr-sim msgs/s: median (min–max)",
        "baseline msgs/s: median (min–max)",
        "ratio",
        "ibkr-sim MB/s",
        "all delivered",
      ],
      sim.throughput.map((t) => [
        t.clients === 1
          ? `1 client × ${t.linesPerClient} lines`
          : `${t.clients} clients × ${t.linesPerClient} lines`,
        spread(t.simulator.messagesPerSecond, count),
        spread(t.ceiling.messagesPerSecond, count),
        times(t.ratio),
        t.simulator.megabytesPerSecond.median.toFixed(1),
        t.simulator.allValid && t.ceiling.allValid ? "yes" : "NO",
      ]),
    ),
  );
  return out;
}

function librarySection(lib) {
  const out = ["## The library against raw @stoqey/ib", ""];
  const why = failed(lib);
  if (why) return [...out, why];
  const c = lib.connect;
  out.push(
    "Both on the same in-process simulator (clocks stopped), the clients in a child process, library and raw alternating run by run after a warm-up of each. Library: `await connect()` then `await ib.positions()`; raw: `IBApi.connect()` until nextValidId, then `reqPositions` into a Map until positionEnd. Times in ms, median (min–max).",
    "",
    table(
      ["figure", "runs", "library", "raw @stoqey/ib (baseline)", "ratio", `aim ≤ ${times(lib.aim)}`],
      [
        ["connect to ready", c.library.n, spread(c.library), spread(c.raw), ratio(c.ratio), yes(c.met)],
        ...lib.positions.map((p) => [
          `connect + ${count(p.positions)} positions`,
          p.reps,
          spread(p.library),
          spread(p.raw),
          ratio(p.ratio),
          yes(p.met),
        ]),
        [
          `heap to hold ${count(lib.memory.positions)} positions`,
          lib.memory.runs,
          spread(lib.memory.heapUsed.library, mb),
          spread(lib.memory.heapUsed.raw, mb),
          ratio(lib.memory.heapUsed.ratio),
          yes(lib.memory.heapUsed.met),
        ],
      ],
    ),
    "",
    `For information, the first connect of a fresh client process (modules loaded, none of their code run yet; what a new notebook kernel pays in its first cell, most of it compiling code on first use), ${lib.firstConnect.runs} processes each: library ${spread(lib.firstConnect.library)} ms, raw ${spread(lib.firstConnect.raw)} ms, ${ratio(lib.firstConnect.ratio)}.`,
    "",
    `For information, a trading connection (\`connect({ trading: true })\`, which asks for this client's open orders and the day's executions as soon as it is ready) against raw sending the same two requests at nextValidId, in a second pass of ${c.trading.raw.n} runs each: raw ${spread(c.trading.raw)} ms, library ${spread(c.trading.library)} ms, ${ratio(c.trading.ratio)}.`,
    "",
    "For information: the same positions asked again on the open connection (the library answers from its state; raw downloads again), ms:",
    "",
    table(
      ["positions", "library positions() again", "raw reqPositions again"],
      lib.positions.map((p) => [count(p.positions), spread(p.warm.library), spread(p.warm.raw)]),
    ),
    "",
    `RSS growth for ${count(lib.memory.positions)} positions (information): library ${spread(lib.memory.rss.library, mb)}, raw ${spread(lib.memory.rss.raw, mb)}.`,
  );
  return out;
}

function ibAsyncSection(py, lib) {
  const out = ["## Second baseline: Python ib_async", ""];
  const why = failed(py);
  if (why) return [...out, why];
  const libraryFor = (n) => lib?.positions?.find((p) => p.positions === n)?.library;
  out.push(
    `ib_async ${py.version} (Python ${py.python}) connecting to the same simulator with \`IB.connect()\`, a fresh connection and client id per run, timed until connect() returns with the sync done; its event loop in its own process. **like-for-like** asks what the library's connect() asks (positions, open orders, executions: \`fetchFields=POSITIONS|ORDERS_OPEN|EXECUTIONS\`); **full sync** is ib_async's default (adds completed orders and account updates with every portfolio row). The library column is its connect + positions from the section above, same run. ms, median (min–max); ratio = ib_async / library.`,
    "",
    table(
      [
        "positions",
        "runs",
        "library connect + positions",
        "ib_async like-for-like",
        "ratio",
        "ib_async full sync",
        "ratio",
      ],
      py.sizes.map((s) => {
        const library = libraryFor(s.positions);
        const over = (x) => (library ? times(x.median / library.median) : "–");
        return [
          count(s.positions),
          s.reps,
          library ? spread(library) : "–",
          spread(s.like),
          over(s.like),
          spread(s.full),
          over(s.full),
        ];
      }),
    ),
    "",
    "No aim: this shows how the library's connect-and-sync compares with a widely used client on the same gateway.",
  );
  return out;
}

function dataSection(data) {
  const out = ["## Results as data", ""];
  const why = failed(data);
  if (why) return [...out, why];
  const base = "HTML table (toHTML)";
  out.push(
    `Turning results into records, CSV and an arquero dataframe, against building the HTML table a cell shows for the same result (the baseline; the library's tables show at most 200 rows) — test/bench/data.mjs, median of ${data.reps} runs after a warm-up, ms (min–max). arquero's first import in a fresh process: ${spread(data.arqueroImportMs)} ms.`,
  );
  for (const set of data.sets ?? []) {
    const baseline = set.figures?.[base];
    out.push(
      "",
      `**${set.name}** (${set.columns} columns, CSV ${mb(set.csvBytes)})`,
      "",
      table(
        ["figure", "median (min–max)", `× ${base}`],
        Object.entries(set.figures ?? {}).map(([label, s]) => [
          label,
          spread(s),
          baseline ? times(s.median / baseline.median) : "–",
        ]),
      ),
    );
  }
  return out;
}

function panelSection(panel) {
  const out = ["## The panels in JupyterLab", ""];
  const why = failed(panel);
  if (why) return [...out, why];
  const { aims, bench } = panel.config;
  out.push(
    `JupyterLab 4.6 with jupyterlab-ibkr in Debian's Chromium, one notebook on the real tslab kernel running ibkr-notebook, connected to an ibkr-sim started in the benchmark's driver (ui-tests/bench/panels.bench.ts, with the browser tests' start-up). Times are on one clock (same machine: the driver, the kernel and the page each read performance.timeOrigin + now()). The page's probe notes each kernel WebSocket frame before JupyterLab decodes it, and a MutationObserver notes when a panel's row changes.`,
    "",
  );
  const part = (title, section, fn) => {
    out.push(`### ${title}`, "");
    if (section.error) out.push(`This part failed in this run: \`${section.error}\``, "");
    else out.push(...fn(section), "");
  };
  const hop = (s) =>
    s ? [ms(s.median), ms(s.p90), ms(s.p99), `${ms(s.min)}–${ms(s.max)}`] : ["–", "–", "–", "–"];
  part("Fill → Orders panel (issue 4)", panel.latency, (l) => [
    `${l.events} fills of one share of a resting order (\`sim.fillOrder\`), after ${bench.latency.warmup} warm-up fills. Each fill waits until no snapshot has arrived for ${bench.latency.quietMs} ms, longer than the feed's throttle interval (the first change at once, then at most 4 snapshots/s), so each meets an idle feed: this is latency, not coalescing. ms after the fill:`,
    "",
    table(
      ["hop", "median", "p90", "p99", "min–max"],
      [
        ["the library in the kernel hears the fill (baseline)", ...hop(l.kernel)],
        ["the first feed snapshot after the fill reaches the page", ...hop(l.firstSnapshot)],
        ["the kernel sends the first snapshot that carries the fill", ...hop(l.sent)],
        ["… which reaches the page", ...hop(l.snapshot)],
        ["**the Orders panel's row shows the fill (DOM)**", ...hop(l.dom)],
      ],
    ),
    "",
    `Aims: p50 < ${aims.latencyP50Ms} ms ${yes(l.dom.median < aims.latencyP50Ms)}, p99 < ${aims.latencyP99Ms} ms ${yes(l.dom.p99 < aims.latencyP99Ms)}. When the first snapshot after a fill arrives long before the one carrying it, the feed published the change before the library had applied it, and the fill waited for the throttle interval.`,
  ]);
  part("A 10,000-position snapshot in the Positions panel (issue 6)", panel.render, (sizes) => [
    `From the snapshot's arrival in the page (the WebSocket frame, before decoding) to its change committed to the Positions panel's DOM: decoding, the extension's checks, the next animation frame and the virtualized table's render. ${sizes[0]?.reps ?? 0} snapshots per book, each triggered by a one-share fill on the book's first row. Baselines: the same with ${count(sizes[0]?.positions ?? 0)} positions, and JSON.parse of the same snapshot in the page. ms, median (min–max):`,
    "",
    table(
      ["positions", "snapshot", "arrival → DOM", "of which decoding", "JSON.parse alone"],
      sizes.map((s) => [
        count(s.positions),
        size(s.bytes),
        spread(s.apply),
        spread(s.decode),
        spread(s.parse),
      ]),
    ),
    "",
    `Aim: ${count(sizes.at(-1).positions)} positions under ${aims.renderMs} ms: ${yes(sizes.at(-1).apply.median < aims.renderMs)} (${times(sizes.at(-1).apply.median / sizes[0].apply.median)} the ${count(sizes[0].positions)}-position time).`,
  ]);
  part("Cell time for a positions display (issue 6)", panel.cells, (books) => [
    `execute_request → execute_reply on the tslab kernel, sent through JupyterLab's kernel connection, ${books[0]?.reps ?? 0} runs of each cell after a warm-up, the three cells rotated each round. \`1 + 1\` is the baseline (tslab's type-check and run of any cell); \`(await ib.positions()).length\` fetches without the table; \`await ib.positions()\` shows it (the HTML table and the summary line). ms, median (min–max):`,
    "",
    table(
      ["book", "positions", "`1 + 1` (baseline)", "`.length`", "`await ib.positions()`", "× baseline"],
      books.map((b) => [
        b.book,
        count(b.positions),
        spread(b.trivial),
        spread(b.count),
        spread(b.display),
        times(b.display.median / b.trivial.median),
      ]),
    ),
    "",
    "No aim: this shows what the positions display adds to a cell.",
  ]);
  part("The page's memory on a changing feed", panel.memory, (m) => [
    `Both panels open (Orders on the left, Positions on the right) on ${count(m.positions)} positions for ${m.seconds.toFixed(0)} s after a ${bench.memory.warmupMs / 1000} s warm-up: prices ticking every 50 ms, account and portfolio updates every 250 ms, a market order placed by the kernel every second (${m.orders.placed} placed, ${m.orders.failed} failed), ${m.fills} one-share fills of a resting order; ${m.snapshots} snapshots reached the page from the start of the feed. The page's JS heap after a forced GC (CDP HeapProfiler.collectGarbage, Runtime.getHeapUsage), the nodes in its document and its JS event listeners; baseline: the same page before the feed started.`,
    "",
    table(
      ["sample", "seconds", "JS heap", "DOM nodes", "event listeners", "snapshots"],
      [
        [
          "before the feed (baseline)",
          "–",
          mb(m.idle.usedBytes),
          count(m.idle.nodes),
          count(m.idle.listeners),
          "–",
        ],
        ...m.samples.map((s, i) => [
          String(i + 1),
          ((s.at - m.samples[0].at) / 1000).toFixed(0),
          mb(s.usedBytes),
          count(s.nodes),
          count(s.listeners),
          count(s.snapshots),
        ]),
      ],
    ),
    "",
    `Growth from the first sample to the last: ${mb(m.growthBytes)} (peak ${mb(m.peakGrowthBytes)}); bound < ${mb(m.boundBytes)}: ${yes(m.met)}. The done-today orders list grows by design (one row per order), a few hundred bytes each.`,
  ]);
  return out;
}

function pageHourSection(hour) {
  const out = ["## One simulated hour in the page and the kernel", ""];
  const why = failed(hour);
  if (why) return [...out, why];
  const { config, heap, nodes, listeners, kernelHeap, kernelRss, lag, met, orders } = hour;
  const { bench, aims } = config;
  const { clocks } = bench;
  const speed = bench.feedMaxPerSecond / 4;
  const statuses = Object.entries(orders.statuses)
    .map(([status, n]) => `${count(n)} ${status}`)
    .join(", ");
  const sampleRow = (label, seconds, s, lagMs, kernel) => [
    label,
    seconds,
    s.snapshots === undefined ? "–" : count(s.snapshots),
    lagMs === undefined ? "–" : (lagMs / 1000).toFixed(1),
    mb(s.page.usedBytes),
    `${count(s.page.nodes)} (${count(s.page.liveNodes)})`,
    count(s.page.listeners),
    s.done ? `${count(s.done.orders)} / ${count(s.done.rows)}` : "–",
    kernel.heap === null ? "–" : mb(kernel.heap),
    mb(kernel.rss),
  ];
  const first = hour.samples[0];
  const end = hour.samples.length - 1;
  const behind = lag.end - lag.start > 2000;
  out.push(
    `The hardening issue's long run: "one hour of simulated streaming (compressed in time where possible) with memory sampled: no growth beyond a stated bound in the kernel or the browser" (ui-tests/bench/hour.bench.ts). Both panels open (Orders on the left, Positions on the right) in JupyterLab 4.6 and Chromium; one notebook on the tslab kernel connected with \`connect({ feedMaxPerSecond: ${bench.feedMaxPerSecond} })\`, ${speed}× the feed's default 4 snapshots/s, to ibkr-sim in the benchmark's driver with ${count(bench.positions)} positions and its clocks ${speed}× as fast: prices every ${clocks.tickIntervalMs} ms, account and portfolio every ${clocks.accountUpdateIntervalMs} ms, the account's and each position's P&L every ${clocks.pnlIntervalMs} ms (TWS pushes each position's P&L on its own, about once a second, so ${count(bench.positions)} positions change the state faster than the feed's cap; the simulator pushes them together, so its P&L clock runs twice as often as the feed may send: a change is always waiting). The stream lasts ${(bench.snapshots / bench.feedMaxPerSecond).toFixed(0)} s: ${(bench.snapshots / 14_400).toFixed(2)} h at ${speed}×, in which the feed may send the ${count(bench.snapshots)} snapshots that hour holds at the default cap. The kernel subscribes to the portfolio, the P&L and every position's P&L, places and cancels ${bench.seedOrders} orders first (done today is past one screen from the start), then every ${bench.orderEveryMs / 1000} s cancels its resting limit order and places either a market order or a new limit order: ${count(orders.orders)} orders in all (${statuses}; ${orders.failed} failed).`,
    "",
    `The page is sampled after a ${bench.warmupMs / 1000} s warm-up, every ${bench.everyMs / 1000} s while streaming, and at the end, once the stream has stopped and the page has taken every snapshot: the snapshots it has had and how long before the sample the kernel had sent the last of them (lag), its JS heap after a forced GC (CDP HeapProfiler.collectGarbage, Runtime.getHeapUsage), the nodes in its document (a tree walk) with, in brackets, every live DOM node, detached ones too, and its JS event listeners (these two from Memory.getDOMCounters), the done-today section (orders it lists / rows in the DOM), and the kernel's RSS (/proc). The kernel's heap after a full collection is read by a cell (process.memoryUsage()) at the start and at the end only: a cell's answer waits behind the snapshots in flight. Baseline: the same page and kernel before connecting.`,
    "",
    table(
      [
        "sample",
        "s after start",
        "snapshots",
        "lag, s",
        "page JS heap",
        "DOM nodes (all live)",
        "listeners",
        "done today: orders / rows in DOM",
        "kernel heap",
        "kernel RSS",
      ],
      [
        sampleRow("before connecting (baseline)", "–", hour.idle, undefined, {
          heap: hour.idle.kernel.heapUsedBytes,
          rss: hour.idle.kernel.rssBytes,
        }),
        ...hour.samples.map((s, i) =>
          sampleRow(
            i === 0 ? "start" : i === end ? "end" : String(i),
            ((s.at - first.at) / 1000).toFixed(0),
            s,
            i === end ? undefined : s.lagMs,
            { heap: s.kernelHeapBytes, rss: s.kernelRssBytes },
          ),
        ),
      ],
    ),
    "",
    `The stream ran ${hour.streamSeconds.toFixed(0)} s (${hour.clockHours.toFixed(2)} simulated h by the clocks); ${count(hour.snapshots)} snapshots reached the page, ${hour.simulatedHours.toFixed(2)} h at the default 4/s (${(hour.snapshots / hour.streamSeconds).toFixed(1)} a second), the last ${hour.drainSeconds.toFixed(0)} s after the stream stopped.`,
    "",
    `- Lag while streaming: ${(lag.start / 1000).toFixed(1)} s at the start, ${(lag.end / 1000).toFixed(1)} s at the last sample${behind ? `: the page took the snapshots more slowly than the kernel sent them, and the backlog waited in the server's and the browser's socket buffers, which neither heap counts, until the page took it all ${hour.drainSeconds.toFixed(0)} s after the stop` : ""}.`,
    `- Page heap ${mb(heap.start)} → ${mb(heap.end)}: ${signed(heap.growth, mb)} at the end, peak ${signed(heap.peakGrowth, mb)}, ${signed(hour.heapPerThousandSnapshots, mb)} per 1,000 snapshots; bound < ${mb(aims.heapGrowthBytes)} at the end and the peak: ${yes(met.heap)}.`,
    `- DOM nodes ${count(nodes.start)} → ${count(nodes.end)} (peak ${signed(nodes.peakGrowth, count)}), bound ≤ +${aims.nodesGrowth}: ${yes(met.nodes)}; event listeners ${count(listeners.start)} → ${count(listeners.end)} (peak ${signed(listeners.peakGrowth, count)}), bound ≤ +${aims.listenersGrowth}: ${yes(met.listeners)}. The done-today table held at most ${count(hour.doneRows.peak)} rows in the DOM while listing up to ${count(hour.samples.at(-1).done.orders)} orders. Every live DOM node (information): ${count(hour.liveNodes.start)} → ${count(hour.liveNodes.end)}, peak ${signed(hour.liveNodes.peakGrowth, count)}; it counts nodes JupyterLab has dropped but the collector has not yet freed, and moves by a few hundred between samples.`,
    `- Kernel heap ${mb(kernelHeap.start)} → ${mb(kernelHeap.end)}: ${signed(kernelHeap.growth, mb)}; bound < ${mb(aims.kernelHeapGrowthBytes)}: ${yes(met.kernelHeap)}. RSS (information: it includes what V8 keeps after a collection, and output waiting to be sent) ${mb(kernelRss.start)} → ${mb(kernelRss.end)}, peak ${signed(kernelRss.peakGrowth, mb)}.`,
    "",
    "Today's orders stay in the library, the feed and the panels' model by design (one entry per order, a few hundred bytes each): part of the growth is theirs.",
  );
  return out;
}

/** The 1-minute load average around the run: other work on the machine moves every figure. */
function loadLine(load, cores) {
  if (!load) return "";
  const busy = Math.max(load.before, load.after) > cores * 0.5;
  return ` Load average (1 min) ${load.before.toFixed(2)} before the run, ${load.after.toFixed(2)} after${busy ? ": other work was running, so the ratios carry more noise than their spreads show" : ""}.`;
}

/**
 * The whole document. `all`: { machine, date, seconds, quick, only, simulator, library, data, ibAsync,
 * panel, pageHour }; `only` lists the sections run when not all were.
 */
export function formatMarkdown(all) {
  const { machine } = all;
  const aims = summaryRows(all);
  const met = aims.filter((r) => r[5] === yes(true)).length;
  return [
    "# Benchmarks",
    "",
    `Generated by \`npm run bench\` (test/bench/run.mjs) on ${all.date.slice(0, 10)}, in ${all.seconds.toFixed(0)} s${all.quick ? " — **--quick: short runs, rough figures**" : ""}${all.only ? ` — **--only ${all.only.join(",")}: the other sections were not run**` : ""}. Every figure is measured on loopback against a baseline measured in the same run; medians with their spread (min–max).`,
    "",
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.platform}; Node ${machine.node}${all.ibAsync?.python ? `; Python ${all.ibAsync.python}` : ""}.${loadLine(all.load, machine.cores)}`,
    "",
    "## Aims",
    "",
    aims.length > 0
      ? table(["figure", "measured (median)", "baseline (median)", "ratio", "aim", ""], aims)
      : "No figures: the simulator and library sections failed.",
    "",
    `${met} of ${aims.length} aims met.`,
    "",
    ...simulatorSection(all.simulator),
    "",
    ...librarySection(all.library),
    "",
    ...ibAsyncSection(all.ibAsync, all.library),
    "",
    ...dataSection(all.data),
    "",
    ...panelSection(all.panel),
    "",
    ...pageHourSection(all.pageHour),
    "",
    "## Not measured here",
    "",
    "Reliability figures (reconnect time after a gateway restart, the library's own heap over a compressed hour of streaming, without a browser) are printed by `npx vitest run test/reliability` in kernel-lib.",
    "",
  ].join("\n");
}

export async function writeMarkdown(all, url) {
  await writeFile(url, formatMarkdown(all));
}
