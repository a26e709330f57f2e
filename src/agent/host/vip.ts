import { isIP } from "node:net";
import { RunosError } from "../../common/errors.js";
import { checkExec, type Exec, type ExecResult } from "./exec.js";

/** What the VIP keeper needs to know about one interface. */
export interface InterfaceState {
  /** `ip`'s link type: "ether" on a layer-2 interface, "none" on WireGuard. */
  linkType: string;
  /** IPv4 addresses as CIDRs, e.g. `172.24.1.254/32`. */
  ipv4: string[];
}

/** Binds and unbinds the control-plane VIP on one interface, and announces a move on layer 2. */
export interface VipPort {
  /** The interface's IPv4 addresses and link type; undefined when the interface does not exist. */
  inspect(iface: string): Promise<InterfaceState | undefined>;
  /** `ip addr add <address>/32 dev <iface>`; an address already there is fine. */
  bind(iface: string, address: string): Promise<void>;
  /** `ip addr del <address>/32 dev <iface>`; an address already gone is fine. */
  unbind(iface: string, address: string): Promise<void>;
  /** Two gratuitous ARPs one second apart (`arping -U -c 2`); resolves when arping exits (~2 s). */
  announce(iface: string, address: string): Promise<void>;
}

const ifaceName = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$/;

/** argv only; values are checked first so none can be read as an option. */
export function checkVipArgs(iface: string, address: string): void {
  if (!ifaceName.test(iface)) throw new RunosError("NA_INVALID_INPUT", `invalid interface name "${iface}"`);
  if (isIP(address) !== 4)
    throw new RunosError("NA_INVALID_INPUT", `VIP "${address}" is not an IPv4 address`);
}

export function createVipPort(exec: Exec): VipPort {
  const run = (argv: string[], timeoutMs = 10_000) => exec({ argv, timeoutMs });
  return {
    async inspect(iface) {
      if (!ifaceName.test(iface))
        throw new RunosError("NA_INVALID_INPUT", `invalid interface name "${iface}"`);
      const argv = ["ip", "-j", "addr", "show", "dev", iface];
      const result = await run(argv);
      if (result.exitCode !== 0 && /does not exist|Cannot find device/i.test(result.stderr)) return undefined;
      checkExec(result, argv);
      return parseIpAddrJson(result.stdout);
    },
    async bind(iface, address) {
      checkVipArgs(iface, address);
      const argv = ["ip", "addr", "add", `${address}/32`, "dev", iface];
      tolerate(await run(argv), argv, /File exists|already assigned/i);
    },
    async unbind(iface, address) {
      checkVipArgs(iface, address);
      const argv = ["ip", "addr", "del", `${address}/32`, "dev", iface];
      tolerate(
        await run(argv),
        argv,
        /Cannot assign requested address|Address not found|Cannot find device/i,
      );
    },
    async announce(iface, address) {
      checkVipArgs(iface, address);
      // iputils arping: whole seconds only; two packets so one lands after the neighbours' locktime
      const argv = ["arping", "-q", "-U", "-c", "2", "-I", iface, address];
      checkExec(await run(argv, 6_000), argv);
    },
  };
}

function tolerate(result: ExecResult, argv: string[], harmless: RegExp): void {
  if (result.exitCode !== 0 && harmless.test(result.stderr)) return;
  checkExec(result, argv);
}

/** `ip -j addr show dev X` output to the IPv4 addresses and the link type. */
export function parseIpAddrJson(stdout: string): InterfaceState {
  const links = JSON.parse(stdout || "[]") as {
    link_type?: string;
    addr_info?: { family?: string; local?: string; prefixlen?: number }[];
  }[];
  const link = links[0];
  return {
    linkType: link?.link_type ?? "",
    ipv4: (link?.addr_info ?? [])
      .filter((a) => a.family === "inet" && a.local)
      .map((a) => `${a.local}/${a.prefixlen ?? 32}`),
  };
}
