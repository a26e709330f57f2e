/** Where a CLI run reads and writes; tests pass buffers, the binary passes the process. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); only `serve` waits on it. */
  waitForShutdown(): Promise<string>;
}

/** What a command hands back to main: data for --json, text for people, and the exit code. */
export interface CommandResult {
  data: unknown;
  human?: string;
  exitCode?: number;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    waitForShutdown: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve(signal);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }),
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colours(stream: { isTTY?: boolean }, env: CliIo["env"]) {
  const on = Boolean(stream.isTTY) && env.NO_COLOR === undefined;
  const paint = (code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { red: paint(31), green: paint(32), yellow: paint(33), dim: paint(2), bold: paint(1) };
}
