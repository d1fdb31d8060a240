/**
 * The parent's handle on a client process (client-process.mjs unless told otherwise): forks it and
 * sends it commands, one reply each.
 */
import { fork } from "node:child_process";

export class RemoteClient {
  #child;
  #nextId = 1;
  #pending = new Map();

  constructor(
    script = new URL("./client-process.mjs", import.meta.url),
    { execArgv = process.execArgv } = {},
  ) {
    this.#child = fork(script, { stdio: "inherit", execArgv });
    this.#child.on("message", ({ id, result, error }) => {
      const call = this.#pending.get(id);
      this.#pending.delete(id);
      if (error) call?.reject(new Error(`client process: ${error}`));
      else call?.resolve(result);
    });
    this.#child.on("exit", (code) => {
      for (const call of this.#pending.values()) call.reject(new Error(`client process exited (${code})`));
      this.#pending.clear();
    });
  }

  request(command, args) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, command, args });
    });
  }

  close() {
    this.#child.disconnect();
  }
}
