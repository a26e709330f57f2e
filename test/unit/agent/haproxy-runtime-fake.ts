import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname } from "node:path";
import { backendName, parseConfiguredBackends } from "../../../src/agent/host/haproxy-config.js";

/**
 * HAProxy's two CLI sockets, simulated: the master CLI (`show proc`, `reload`, answering only after
 * the client half-closes, like 2.6) and the worker's admin socket (`show servers state`, `show stat`).
 * A reload re-reads the config file, as the real master does.
 */
export class FakeHaproxyRuntime {
  names: string[] = [];
  masterPid = 100;
  workerPid = 200;
  reloads = 0;
  failedReloads = 0;
  /** The next n reloads fail like a config HAProxy refuses (the old worker keeps serving). */
  refuseReloads = 0;
  readonly commands: string[] = [];
  private readonly servers: Server[] = [];

  constructor(private readonly configPath: string) {}

  loadConfig(): void {
    const backend = parseConfiguredBackends(readFileSync(this.configPath, "utf8")).find(
      (b) => b.name === backendName,
    );
    this.names = backend?.servers.map((s) => s.name) ?? [];
  }

  async listenMaster(path: string): Promise<void> {
    await this.listen(path, (command) => {
      if (command === "show proc") {
        return [
          "#<PID>          <type>          <reloads>       <uptime>        <version>",
          `${this.masterPid}            master          ${this.reloads} [failed: ${this.failedReloads}]   0d00h00m01s     2.6.12`,
          "# workers",
          `${this.workerPid}            worker          0               0d00h00m01s     2.6.12`,
          "# programs",
          "",
        ].join("\n");
      }
      if (command === "reload") {
        this.reloads += 1;
        if (this.refuseReloads > 0) {
          this.refuseReloads -= 1;
          this.failedReloads += 1;
        } else {
          this.workerPid += 1;
          this.loadConfig();
        }
        return "";
      }
      return "Unknown command.\n";
    });
  }

  async listenAdmin(path: string): Promise<void> {
    await this.listen(path, (command) => {
      if (command.startsWith("show servers state")) {
        const lines = this.names.map(
          (n, i) =>
            `3 ${backendName} ${i + 1} ${n} 10.0.0.${i + 1} 2 0 1 1 5 15 3 3 6 0 0 0 - 6443 - 0 0 - - 0`,
        );
        return ["1", "# be_id be_name srv_id srv_name srv_addr srv_op_state", ...lines, ""].join("\n");
      }
      if (command === "show stat") {
        const rows = this.names.map((n, i) => `${backendName},${n},UP,L7OK,7,0,3,10.0.0.${i + 1}:6443`);
        return ["# pxname,svname,status,check_status,lastchg,scur,stot,addr", ...rows, ""].join("\n");
      }
      return "Unknown command.\n";
    });
  }

  private async listen(path: string, answer: (command: string) => string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      let input = "";
      socket.on("data", (d) => (input += d));
      socket.on("end", () => {
        const command = input.trim();
        this.commands.push(command);
        socket.end(answer(command));
      });
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    this.servers.length = 0;
  }
}
