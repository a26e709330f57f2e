import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { AmIVipHolderAnswer } from "../../wire/messages.js";
import { askVipHolder } from "../daemon/connection.js";
import type { Session } from "../daemon/session.js";
import type { VipPort } from "../host/vip.js";
import type { VipStateStore } from "../host/vip-state.js";
import { VipKeeper } from "./keeper.js";
import { VipSelfDrop } from "./self-drop.js";
import type { VipSettings } from "./target.js";

export interface VipRuntimeDeps {
  port: VipPort;
  state: VipStateStore;
  settings(): VipSettings;
  log: Logger;
  /** The open session, if any (for asking again after a self-drop). */
  session(): Session | undefined;
}

/** The agent's VIP wiring: the keeper plus the hooks the connection loop calls. */
export interface VipRuntime {
  keeper: VipKeeper;
  /** Session start: converge to the control plane's answer; a failure is only logged. */
  onHolderAnswer(answer: AmIVipHolderAnswer): void;
  onHeartbeat(ok: boolean): void;
  /** A dial that failed counts as a failed heartbeat. */
  onDialFailed(): void;
}

export function createVipRuntime(deps: VipRuntimeDeps): VipRuntime {
  const keeper = new VipKeeper({
    port: deps.port,
    state: deps.state,
    settings: deps.settings,
    log: deps.log,
  });
  const converge = (answer: AmIVipHolderAnswer) =>
    void keeper.converge(answer).then(
      () => guard.confirmed(),
      (err: unknown) => deps.log.warn({ err: errorMessage(err) }, "VIP convergence failed; session kept"),
    );
  const guard = new VipSelfDrop({
    keeper,
    log: deps.log,
    recheck: () => {
      const session = deps.session();
      if (session) void askVipHolder(session, deps.log).then((answer) => answer && converge(answer));
    },
  });
  return {
    keeper,
    onHolderAnswer: converge,
    onHeartbeat: (ok) => (ok ? guard.succeeded() : guard.failed()),
    onDialFailed: () => guard.failed(),
  };
}
