import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { RunosError } from "../../common/errors.js";
import type { Paths } from "../host/paths.js";

export function readMachineId(paths: Paths): string {
  for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    try {
      const id = readFileSync(paths.onRoot(file), "utf8").trim();
      if (id) return id;
    } catch {
      // try the next source
    }
  }
  throw new RunosError("NA_INVALID_INPUT", "this machine has no machine id", {
    hint: "run `sudo systemd-machine-id-setup` (or `sudo dbus-uuidgen --ensure`)",
  });
}

/** `<ID>-<VERSION_ID>` from os-release, `<ID>` without a version, `unknown` if unreadable. */
export function readOsId(paths: Paths): string {
  let text: string;
  try {
    text = readFileSync(paths.onRoot("/etc/os-release"), "utf8");
  } catch {
    return "unknown";
  }
  const values = parseOsRelease(text);
  const id = values.get("ID") ?? "";
  if (!id) return "unknown";
  const version = values.get("VERSION_ID") ?? "";
  return version ? `${id}-${version}` : id;
}

export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 1) continue;
    values.set(
      line.slice(0, eq).trim(),
      line
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1"),
    );
  }
  return values;
}

export function machineHostname(): string {
  return hostname();
}
