/**
 * One simulator per test and the clients the test opened through it, all closed after the test.
 * Its clock is stopped (tickIntervalMs 0) unless the options say otherwise.
 */
import { type SimulatorOptions, TwsSimulator } from "../../src/simulator";
import { RecordingClient } from "./ib-client";
import { RawClient } from "./raw-client";

export class SimFixture {
  sim: TwsSimulator | undefined;
  private readonly clients: Array<RecordingClient | RawClient> = [];

  async start(options: SimulatorOptions = {}): Promise<TwsSimulator> {
    this.sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, ...options });
    return this.sim;
  }

  private get port(): number {
    if (!this.sim) throw new Error("start the simulator first");
    return this.sim.port;
  }

  private track<T extends RecordingClient | RawClient>(client: T): T {
    this.clients.push(client);
    return client;
  }

  /** A @stoqey/ib client, connected and ready. */
  async ib(clientId: number): Promise<RecordingClient> {
    return this.track(await RecordingClient.connect(this.port, clientId));
  }

  /** A @stoqey/ib client that starts connecting but is not awaited (refused, or held at login). */
  ibConnecting(clientId: number): RecordingClient {
    const client = this.track(new RecordingClient(this.port, clientId));
    client.api.connect(clientId);
    return client;
  }

  /** A byte-level client past startApi. */
  async raw(clientId: number, options?: Parameters<typeof RawClient.connect>[2]): Promise<RawClient> {
    return this.track(await RawClient.connect(this.port, clientId, options));
  }

  /** A byte-level socket that has sent nothing yet. */
  async rawOpen(): Promise<RawClient> {
    return this.track(await RawClient.open(this.port));
  }

  async close(): Promise<void> {
    for (const client of this.clients.splice(0)) {
      if (client instanceof RawClient) client.close();
      else client.disconnect();
    }
    await this.sim?.close();
    this.sim = undefined;
  }
}
