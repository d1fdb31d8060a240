/**
 * Memory samples for the benchmarks: the page's (Chromium's CDP: JS heap after a forced collection,
 * DOM nodes, event listeners) and the notebook kernel's (Node's heap after a full collection and its
 * RSS, read by a cell; or its RSS alone, read from /proc without disturbing it).
 */
import { readFileSync } from "node:fs";
import type { IJupyterLabPageFixture } from "@jupyterlab/galata";
import type { CDPSession } from "@playwright/test";
import { executeJson } from "./kernel";

export interface PageMemory {
  usedBytes: number;
  /** Nodes in the document. */
  nodes: number;
  /**
   * Every DOM node alive, detached ones too: after a collection this moves by a few hundred, as
   * JupyterLab keeps and drops nodes.
   */
  liveNodes: number;
  listeners: number;
}

export interface KernelMemory {
  heapUsedBytes: number;
  rssBytes: number;
}

/** Counted in the page, text nodes included. */
const DOCUMENT_NODES = `(() => {
  let count = 0;
  const walker = document.createTreeWalker(document);
  while (walker.nextNode()) count += 1;
  return count;
})()`;

export async function pageMemory(cdp: CDPSession): Promise<PageMemory> {
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = await cdp.send("Runtime.getHeapUsage");
  const counters = await cdp.send("Memory.getDOMCounters");
  const nodes = await cdp.send("Runtime.evaluate", { expression: DOCUMENT_NODES, returnByValue: true });
  return {
    usedBytes: heap.usedSize,
    nodes: nodes.result.value as number,
    liveNodes: counters.nodes,
    listeners: counters.jsEventListeners,
  };
}

/**
 * Run once in the kernel: defines kernelMemoryNow(), a KernelMemory after a full collection. tslab
 * starts Node without --expose-gc, so the flag is set at run time and a fresh context hands out gc().
 */
export const KERNEL_MEMORY_SETUP = `import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const kernelMemoryNow = () => {
  collectGarbage();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsedBytes: heapUsed, rssBytes: rss };
};`;

/** A cell: it waits behind whatever the kernel sent before it, up to the page. */
export function kernelMemory(page: IJupyterLabPageFixture, path: string): Promise<KernelMemory> {
  return executeJson<KernelMemory>(page, path, "console.log(JSON.stringify(kernelMemoryNow()));");
}

/** A process's resident memory, read from /proc (Linux): the kernel runs on this machine. */
export function processRssBytes(pid: number): number {
  const kilobytes = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (!kilobytes) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(kilobytes) * 1024;
}
