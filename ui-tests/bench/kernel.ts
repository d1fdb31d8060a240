/**
 * Code run in a notebook's tslab kernel from the page, as a cell's execute_request, through
 * JupyterLab's own kernel connection: what the cell printed, and the time from sending the
 * execute_request to the execute_reply's arrival (the cell time a notebook user waits, without the
 * output's rendering). Fails with the kernel's error when the code raised.
 */
import type { IJupyterLabPageFixture } from "@jupyterlab/galata";

export interface Executed {
  ms: number;
  stdout: string;
}

export async function execute(page: IJupyterLabPageFixture, path: string, code: string): Promise<Executed> {
  const result = await page.evaluate(
    async ({ path, code }) => {
      type Reply = { content: { status: string; ename?: string; evalue?: string } };
      type IOPub = {
        header: { msg_type: string };
        content: { text?: string; ename?: string; evalue?: string };
      };
      type Future = { onIOPub: (msg: IOPub) => void; onReply: (msg: Reply) => void; done: Promise<unknown> };
      type Panel = {
        context?: { path: string };
        sessionContext: { session: { kernel: { requestExecute(c: object): Future } | null } | null };
      };
      const notebook = [...window.jupyterapp.shell.widgets("main")].find(
        (w) => (w as unknown as Panel).context?.path === path,
      ) as unknown as Panel | undefined;
      const kernel = notebook?.sessionContext.session?.kernel;
      if (!kernel) throw new Error(`no kernel for ${path}`);
      let stdout = "";
      let error = "";
      let repliedAt = 0;
      let status = "";
      const sentAt = performance.now();
      const future = kernel.requestExecute({ code, store_history: false });
      future.onIOPub = (msg) => {
        if (msg.header.msg_type === "stream") stdout += msg.content.text ?? "";
        if (msg.header.msg_type === "error") error = `${msg.content.ename}: ${msg.content.evalue}`;
      };
      future.onReply = (msg) => {
        repliedAt = performance.now();
        status = msg.content.status;
        if (status !== "ok" && !error) error = `${msg.content.ename}: ${msg.content.evalue}`;
      };
      await future.done;
      return { ms: repliedAt - sentAt, stdout, status, error };
    },
    { path, code },
  );
  if (result.status !== "ok") {
    throw new Error(`the kernel failed on:\n${code}\n→ ${result.error}\n${result.stdout}`);
  }
  return { ms: result.ms, stdout: result.stdout };
}

/** The last line the code printed, parsed as JSON (the snippets print their results that way). */
export async function executeJson<T>(page: IJupyterLabPageFixture, path: string, code: string): Promise<T> {
  const { stdout } = await execute(page, path, code);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`expected a JSON line from:\n${code}\nbut it printed:\n${stdout}`);
  }
}
