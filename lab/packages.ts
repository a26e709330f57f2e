// Installs the Debian packages the lab needs, idempotently, without recommends (FEASIBILITY.md section 0:
// recommends pull in a kernel image and initramfs-tools, 83 s for nothing).
import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import { run, runOk } from "./run.js";

/** Debian 12 package -> a program it must provide. */
export const LAB_PACKAGES: Readonly<Record<string, string>> = {
  "wireguard-go": "wireguard-go",
  "wireguard-tools": "wg",
  nftables: "nft",
  iproute2: "ip",
  "iputils-ping": "ping",
  // util-linux: nsenter, unshare, setpriv, findmnt, flock; mount: mount, umount
  "util-linux": "nsenter",
  mount: "mount",
};

/** Programs the lab runs besides those above; they all come with util-linux, mount or coreutils. */
const REQUIRED_PROGRAMS = ["unshare", "setpriv", "findmnt", "flock", "umount", "hostname", "xargs", "sh"];

const APT_TIMEOUT_MS = 10 * 60_000;

async function isInstalled(pkg: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format syntax, not a template
  const result = await run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg]);
  return result.code === 0 && result.stdout.startsWith("ii");
}

export function findProgram(name: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/**
 * Installs whatever of LAB_PACKAGES is missing (`apt-get update` only then) and checks that every
 * program the lab runs is on PATH. Returns the packages it installed.
 */
export async function ensurePackages(log: (line: string) => void = () => {}): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of Object.keys(LAB_PACKAGES)) if (!(await isInstalled(pkg))) missing.push(pkg);
  if (missing.length > 0) {
    log(`lab: installing ${missing.join(" ")}`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    // Wait for a concurrent apt instead of failing on its lock.
    const lock = ["-o", "DPkg::Lock::Timeout=300"];
    await runOk(["apt-get", ...lock, "update"], { env, timeoutMs: APT_TIMEOUT_MS });
    await runOk(["apt-get", ...lock, "install", "-y", "--no-install-recommends", ...missing], {
      env,
      timeoutMs: APT_TIMEOUT_MS,
    });
  }
  const absent = [...Object.values(LAB_PACKAGES), ...REQUIRED_PROGRAMS].filter((p) => !findProgram(p));
  if (absent.length > 0) throw new Error(`lab: programs missing after install: ${absent.join(", ")}`);
  return missing;
}
