/**
 * Sustained market-data rate from the simulator to its clients, against a ceiling measured in the
 * same run. The simulator's clock is stopped and the benchmark steps it as fast as the clients
 * take the ticks: one step per event-loop turn, and no step while any socket's buffer is over its
 * high-water mark. So the rate is what the clients received, not what piled up in buffers; a run
 * counts only if the client received every frame and byte that was sent.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { CeilingTarget, SimTarget } from "./servers.mjs";
import { summarize } from "./stats.mjs";

/** How long a client may take to catch up after a run, or to finish subscribing, before we give up. */
const CATCH_UP_MS = 15_000;

/** Steps `target` for `durationMs`, waiting for drain whenever a socket's buffer is full. */
async function drive(target, durationMs) {
  const deadline = performance.now() + durationMs;
  let steps = 0;
  let stalls = 0;
  while (performance.now() < deadline) {
    const congested = target.congested();
    if (congested) {
      stalls++;
      await drained(congested);
      continue;
    }
    target.step();
    steps++;
    // The simulator flushes on setImmediate; yielding here lets that write go out before the next step.
    await nextTurn();
  }
  return { steps, stalls };
}

/** Resolves when the socket has drained, or closed (then nothing more will be sent on it). */
function drained(socket) {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** Waits until the client group has received everything the target sent so far. */
async function settle(client, group, target) {
  await nextTurn(); // the simulator's pending writes go out on the next turn
  const sent = target.totals();
  const got = await client.request("awaitTotals", { group, ...sent, timeoutMs: CATCH_UP_MS });
  if (!got.complete) throw new Error(`${group}: client received ${got.frames} of ${sent.frames} frames`);
}

async function until(predicate, what) {
  const deadline = performance.now() + CATCH_UP_MS;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Connects a group of clients, subscribes their lines and waits until the server has answered. */
async function attach(client, group, target, plan) {
  await client.request("connect", { group, port: target.port, clients: plan });
  const lines = plan.reduce((sum, c) => sum + c.conIds.length, 0);
  await until(() => target.subscribed(lines), `${group}: ${lines} subscriptions`);
  await settle(client, group, target);
}

/** Client ids 1..clients, each with `lines` subscriptions spread round the instrument universe. */
function subscriptionPlan(clients, lines, conIds) {
  return Array.from({ length: clients }, (_, c) => ({
    clientId: c + 1,
    conIds: Array.from({ length: lines }, (_, l) => conIds[(c * lines + l) % conIds.length]),
  }));
}

/** One timed run: from the first step until the client reports it has received the last frame sent. */
async function measureRun(client, group, target, durationMs) {
  const before = target.totals();
  const start = performance.now();
  const { steps, stalls } = await drive(target, durationMs);
  const sent = target.totals();
  const got = await client.request("awaitTotals", { group, ...sent, timeoutMs: CATCH_UP_MS });
  const seconds = (performance.now() - start) / 1000;
  const received = got.frames - before.frames;
  return {
    seconds,
    steps,
    stalls,
    sentMessages: sent.frames - before.frames,
    receivedMessages: received,
    sentBytes: sent.bytes - before.bytes,
    receivedBytes: got.bytes - before.bytes,
    valid: got.complete && got.frames === sent.frames && got.bytes === sent.bytes,
    messagesPerSecond: received / seconds,
    megabytesPerSecond: (got.bytes - before.bytes) / seconds / 1e6,
  };
}

function describe(runs) {
  return {
    messagesPerSecond: summarize(runs.map((r) => r.messagesPerSecond)),
    megabytesPerSecond: summarize(runs.map((r) => r.megabytesPerSecond)),
    allValid: runs.every((r) => r.valid),
    runs,
  };
}

/**
 * The simulator and its ceiling, `reps` alternating runs each of `durationMs`, after a warm-up.
 * The ceiling replays the bytes the simulator sent each connection during the warm-up.
 */
export async function measureThroughput(client, { clients, linesPerClient, reps, durationMs, warmupMs }) {
  const sim = await SimTarget.start();
  const plan = subscriptionPlan(clients, linesPerClient, sim.conIds);
  await attach(client, "sim", sim, plan);
  await drive(sim, warmupMs);
  const stopRecording = sim.record();
  await drive(sim, Math.min(warmupMs, 250));
  const chunks = stopRecording();
  await settle(client, "sim", sim);

  const ceiling = await CeilingTarget.start(chunks);
  await attach(client, "ceiling", ceiling, plan);
  await drive(ceiling, warmupMs);
  await settle(client, "ceiling", ceiling);

  const simRuns = [];
  const ceilingRuns = [];
  for (let i = 0; i < reps; i++) {
    simRuns.push(await measureRun(client, "sim", sim, durationMs));
    ceilingRuns.push(await measureRun(client, "ceiling", ceiling, durationMs));
  }
  await client.request("disconnect", { group: "sim" });
  await client.request("disconnect", { group: "ceiling" });
  await Promise.all([sim.close(), ceiling.close()]);

  const simulator = describe(simRuns);
  const baseline = describe(ceilingRuns);
  return {
    clients,
    linesPerClient,
    messagesPerStep: Math.round(
      simRuns.reduce((n, r) => n + r.sentMessages, 0) / simRuns.reduce((n, r) => n + r.steps, 0),
    ),
    simulator,
    ceiling: baseline,
    ratio: simulator.messagesPerSecond.median / baseline.messagesPerSecond.median,
  };
}
