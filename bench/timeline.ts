/**
 * Timeline at scale (issue 8, requirement 2): a synthetic report of 10M slices over 16
 * threads → report.html → headless Chromium (Canvas2D, no GPU). Prints the load time, the
 * frame times of a scripted pan/zoom (median / p95 ms and fps) and the bytes per slice.
 * Usage: node --import tsx bench/timeline.ts [--events N] [--threads N] [--frames N]
 */
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { launch, openPage, screenshot, writeReportHtml } from '../test/webview/browser';
import { makeReport } from '../test/webview/makeReport';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** Runs the benchmark and returns its figures (also printed). */
export async function benchTimeline(events = arg('events', 10_000_000), threads = arg('threads', 16), frames = arg('frames', 120)): Promise<Record<string, number>> {
  let t = performance.now();
  // 625k slices per thread over a minute: what sampling every 100 µs records.
  const report = makeReport({ threads, events, typed: true, wallMs: (events / threads) * 0.1, functions: 200, sampleIntervalUs: 100 });
  const genMs = performance.now() - t;
  t = performance.now();
  const file = await writeReportHtml(report);
  const htmlMs = performance.now() - t;
  const htmlBytes = statSync(file).size;
  const browser = await launch();
  try {
    // Renderer CPU time is robust when other work shares the machine; wall time is what users feel.
    const cdp = await browser.newBrowserCDPSession();
    const cpu = async (): Promise<number> => {
      const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; cpuTime: number }[] };
      return info.processInfo.filter((p) => p.type === 'renderer').reduce((a, p) => a + p.cpuTime, 0);
    };
    const cpu0 = await cpu();
    const { page, errors } = await openPage(browser, file, { width: 1600, height: 900, timeoutMs: 600_000 });
    const loadCpuMs = ((await cpu()) - cpu0) * 1000;
    const load = await page.evaluate(() => {
      const hooks = window.__parprof!;
      const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return { phases: hooks.phases, readyAt: hooks.readyAt ?? NaN, completeAt: hooks.completeAt ?? NaN, scriptMs: hooks.loadMs, slices: hooks.slices, modelBytes: hooks.modelBytes, heap: mem?.usedJSHeapSize ?? NaN };
    });
    // Scripted pan/zoom: zoom in by 1.15× per frame towards a point, then pan, then zoom out,
    // each step drawn in an animation frame; draw() returns its own cost.
    const run = await page.evaluate(async (n: number) => {
      const tl = window.__parprof!.timeline!;
      const [a0, b0] = tl.range();
      const draws: number[] = [];
      const frameGaps: number[] = [];
      let last = performance.now();
      const started = last;
      for (let i = 0; i < n; i++) {
        await new Promise<void>((r) => requestAnimationFrame(() => r()));
        const [a, b] = tl.range();
        const span = b - a;
        const phase = Math.floor((i * 3) / n);
        if (phase === 0) tl.setRange(a + span * 0.06, b - span * 0.06);
        else if (phase === 1) tl.setRange(a + span * 0.08, b + span * 0.08);
        else tl.setRange(a - span * 0.09, b + span * 0.09);
        draws.push(tl.draw());
        const now = performance.now();
        frameGaps.push(now - last);
        last = now;
      }
      tl.setRange(a0, b0);
      return { draws, frameGaps, elapsed: performance.now() - started };
    }, frames);
    await screenshot(page, 'bench-timeline');
    console.log('  load phases (ms since navigation):', Object.entries(load.phases).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '), `, overview drawn ${load.readyAt.toFixed(0)}, full ${load.completeAt.toFixed(0)}`);
    if (errors.length) console.error('page errors:', errors);
    const out = {
      slices: load.slices,
      generateMs: genMs,
      buildHtmlMs: htmlMs,
      htmlMB: htmlBytes / 1e6,
      loadMs: load.readyAt,
      completeMs: load.completeAt,
      loadCpuMs,
      drawMedianMs: quantile(run.draws, 0.5),
      drawP95Ms: quantile(run.draws, 0.95),
      frameMedianMs: quantile(run.frameGaps, 0.5),
      frameP95Ms: quantile(run.frameGaps, 0.95),
      fps: (frames * 1000) / run.elapsed,
      modelBytesPerSlice: load.modelBytes / load.slices,
      jsHeapBytesPerSlice: load.heap / load.slices,
    };
    return out;
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  void benchTimeline().then((r) => {
    console.log(`timeline bench: ${r.slices} slices over ${arg('threads', 16)} threads (headless Chromium, Canvas2D, no GPU)`);
    console.log(`  report.html       ${r.htmlMB!.toFixed(1)} MB, built in ${r.buildHtmlMs!.toFixed(0)} ms (synthetic report generated in ${r.generateMs!.toFixed(0)} ms)`);
    console.log(`  load → overview drawn ${r.loadMs!.toFixed(0)} ms, every slice decoded and drawn ${r.completeMs!.toFixed(0)} ms wall, ${r.loadCpuMs!.toFixed(0)} ms renderer CPU (target ≤ 2000; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
    console.log(`  draw per frame    median ${r.drawMedianMs!.toFixed(2)} ms, p95 ${r.drawP95Ms!.toFixed(2)} ms`);
    console.log(`  frame interval    median ${r.frameMedianMs!.toFixed(2)} ms, p95 ${r.frameP95Ms!.toFixed(2)} ms → ${r.fps!.toFixed(1)} fps (target ≥ 30)`);
    console.log(`  memory            ${r.modelBytesPerSlice!.toFixed(1)} B/slice in the model's typed arrays + LOD (target ≤ 24); JS heap ${r.jsHeapBytesPerSlice!.toFixed(1)} B/slice`);
  });
}
