import { type ChildProcess, fork } from "node:child_process";
import type { Socket } from "node:net";
import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";

export interface AcceptorListener {
  name: string;
  host: string;
  port: number;
  /** The kernel's accept queue (capped by net.core.somaxconn). */
  backlog: number;
  /** Sockets accepted but not yet taken by nodeward; more are closed at once. */
  maxPending: number;
}

export interface Acceptor {
  /** Bound ports by listener name. */
  readonly ports: Record<string, number>;
  close(): void;
}

type ChildMessage =
  | { kind: "listening"; listener: string; port: number }
  | { kind: "connection"; listener: string }
  | { kind: "error"; listener: string; message: string; code?: string };

const script = new URL("./acceptor-process.mjs", import.meta.url).pathname;

/**
 * Starts the acceptor process (acceptor-process.mjs) and resolves once every listener is bound.
 * Each accepted socket arrives through `onConnection`. If the acceptor dies, nodeward cannot take
 * new connections, so it is started again at once (at most once a second).
 */
export async function startAcceptor(
  listeners: readonly AcceptorListener[],
  onConnection: (listener: string, socket: Socket) => void,
  log: Logger,
): Promise<Acceptor> {
  let child: ChildProcess | undefined;
  let closed = false;
  const ports: Record<string, number> = {};

  const spawnChild = (bindTo: readonly AcceptorListener[]) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      // no loader and none of nodeward's flags (a profile of nodeward must not include this one)
      const proc = fork(script, [JSON.stringify(bindTo)], {
        execArgv: [],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child = proc;
      const waiting = new Set(bindTo.map((l) => l.name));
      proc.on("message", (message: ChildMessage, handle: unknown) => {
        if (message.kind === "connection" && handle) onConnection(message.listener, handle as Socket);
        else if (message.kind === "listening") {
          ports[message.listener] = message.port;
          waiting.delete(message.listener);
          if (waiting.size === 0) resolve();
        } else if (message.kind === "error") {
          reject(
            new RunosError("NA_CONFLICT", `cannot listen for ${message.listener}: ${message.message}`, {
              hint: "another process may hold the port; choose another with --l1-port/--l2-port",
            }),
          );
        }
      });
      proc.on("exit", (code, signal) => {
        reject(
          new RunosError("NA_INTERNAL", `the acceptor process exited (${signal ?? code}) while starting`),
        );
        if (closed || child !== proc) return;
        log.error({ code, signal }, "the acceptor process died; starting it again");
        const again = () => {
          // the same ports as before, so agents find nodeward where it was
          const rebind = bindTo.map((l) => ({ ...l, port: ports[l.name] ?? l.port }));
          spawnChild(rebind).catch((err: unknown) => {
            log.error({ err }, "restarting the acceptor process failed");
            if (!closed) setTimeout(again, 1_000).unref();
          });
        };
        setTimeout(again, Math.max(0, 1_000 - (Date.now() - started))).unref();
      });
    });

  await spawnChild(listeners);
  return {
    ports,
    close: () => {
      closed = true;
      child?.kill();
    },
  };
}
