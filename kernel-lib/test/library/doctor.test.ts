/**
 * ibkr-notebook doctor against the simulator: a usable port, a port nobody listens on, a client id
 * in use, and the login window.
 */
import { afterEach, describe, expect, it } from "vitest";
import { doctor, formatDoctorReport } from "../../src/doctor/doctor";
import { TwsSimulator } from "../../src/simulator";
import { RecordingClient } from "../support/ib-client";

let sim: TwsSimulator;
afterEach(async () => {
  await sim?.close();
});

describe("doctor", () => {
  it("finds a listening gateway, its paper account and a free client id, and says how to connect", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const reports = await doctor({ ports: [sim.port], timeoutMs: 1000 });
    expect(reports).toEqual([
      expect.objectContaining({
        port: sim.port,
        listening: true,
        handshake: "ok",
        clientIdFree: true,
        accounts: ["DU1234567"],
        serverVersion: 176,
        readOnlyApi: false,
      }),
    ]);
    const text = formatDoctorReport(reports);
    expect(text).toContain("paper account: DU1234567");
    expect(text).toContain('"Read-Only API" is unticked');
    expect(text).toContain(`Ready: connect({ broker: "ibkr-paper", port: ${sim.port} })`);
  });

  it('finds TWS\'s "Read-Only API" ticked and says where to untick it', async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, readOnlyApi: true });
    const reports = await doctor({ ports: [sim.port], timeoutMs: 1000 });
    expect(reports[0]).toMatchObject({ handshake: "ok", readOnlyApi: true });
    const text = formatDoctorReport(reports);
    expect(text).toMatch(
      /✗ "Read-Only API" is ticked: .*orders cannot be listed, placed or cancelled; untick it in File → Global Configuration → API → Settings/,
    );
    expect(text).toMatch(
      /Ready: connect\(.*\) — for positions, account and quotes; orders need "Read-Only API" unticked/,
    );
  });

  it("reports a port nobody listens on, and what to start", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const port = sim.port;
    await sim.close();
    const reports = await doctor({ ports: [port], timeoutMs: 500 });
    expect(reports[0]).toMatchObject({ listening: false, handshake: "skip" });
    expect(formatDoctorReport(reports)).toMatch(
      /No usable TWS \/ IB Gateway found[\s\S]*Enable ActiveX and Socket Clients/,
    );
  });

  it("tells that the client id is taken, and leaves the holder connected", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const holder = await RecordingClient.connect(sim, 2);
    const reports = await doctor({ ports: [sim.port], clientId: 2, timeoutMs: 1000 });
    expect(reports[0]).toMatchObject({ listening: true, clientIdFree: false });
    expect(formatDoctorReport(reports)).toContain("client id 2 is in use");
    expect(sim.clients().map((s) => s.clientId)).toEqual([2]);
    holder.disconnect();
  });

  it("explains a gateway that accepts connections but waits for login", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    sim.loginWindow(5_000);
    const reports = await doctor({ ports: [sim.port], timeoutMs: 300 });
    expect(reports[0]).toMatchObject({ listening: true, handshake: "fail" });
    expect(reports[0]?.notes.join("\n")).toMatch(/login or second-factor/);
  });
});
