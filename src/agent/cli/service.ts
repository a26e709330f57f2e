import { execArgv } from "../host/exec.js";
import { createServiceManager, type ServiceState, validServiceName } from "../services/service-manager.js";
import { superviseService } from "../services/supervisor.js";
import { type CommandContext, type CommandSpec, commandGroup } from "./command.js";

function serviceGroup(program: Parameters<CommandSpec["define"]>[0]) {
  return commandGroup(
    program,
    "service",
    "Run the node's services (containerd, kubelet) through systemd, or the agent where systemd is not PID 1",
  );
}

const describe = (s: ServiceState) =>
  `${s.name}: ${s.running ? "running" : "stopped"} (${s.manager === "systemd" ? "systemd" : "supervised by runos"}${s.pid ? `, pid ${s.pid}` : ""})`;

function action(verb: "start" | "restart" | "stop" | "status", description: string): CommandSpec {
  return {
    define: (program) =>
      serviceGroup(program)
        .command(verb)
        .description(description)
        .argument("<name>", "unit name")
        .option("--json", "as JSON"),
    async run(_options, [name = ""], ctx: CommandContext) {
      validServiceName(name);
      const manager = createServiceManager(ctx.paths, execArgv);
      const state =
        verb === "start" || verb === "restart"
          ? await manager.start(name, { restart: verb === "restart" })
          : verb === "stop"
            ? await manager.stop(name)
            : await manager.status(name);
      return { data: state, human: describe(state), exitCode: verb === "status" && !state.running ? 3 : 0 };
    },
  };
}

export const serviceStartCommand = action("start", "Enable and start a service (no-op when running)");
export const serviceRestartCommand = action("restart", "Enable and (re)start a service");
export const serviceStopCommand = action("stop", "Stop and disable a service");
export const serviceStatusCommand = action("status", "Whether a service runs (exit 3 when stopped)");

/** The foreground supervisor `service start` launches where systemd is not PID 1. */
export const serviceSuperviseCommand: CommandSpec = {
  streaming: true,
  define: (program) =>
    serviceGroup(program)
      .command("supervise", { hidden: true })
      .description("Run one service unit in the foreground with its restart policy")
      .argument("<name>", "unit name"),
  async run(_options, [name = ""], ctx) {
    validServiceName(name);
    const exitCode = await superviseService(ctx.paths, name, ctx.log);
    return { data: null, human: "", exitCode };
  },
};
