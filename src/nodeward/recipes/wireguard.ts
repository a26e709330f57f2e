import { userSubnet } from "../cluster/ipam.js";
import { wg1Port } from "../cluster/listen-port.js";

export interface InstallCommand {
  command: string;
  ignoreFailure: boolean;
}

export interface WireguardRecipeInput {
  /** The node's wg0 address, e.g. 172.24.3.7. */
  overlayIp: string;
  /** The cluster's /24, e.g. 172.24.3.0/24. */
  clusterSubnet: string;
  /** wg0 listen port (51820 unless another node behind the same NAT has it). */
  listenPort: number;
}

const mtu = 1420;

/**
 * The VPN install list for one node (spec 7.4 protocol). Idempotent by construction: the key is
 * generated on the node only if absent and never leaves it; interfaces are created only if
 * missing; addresses and routes use `replace`; re-running never breaks a running tunnel.
 * Kernel WireGuard where the kernel has it, wireguard-go where it does not.
 */
export function wireguardInstallCommands(input: WireguardRecipeInput): InstallCommand[] {
  const strict = (command: string): InstallCommand => ({ command, ignoreFailure: false });
  const lenient = (command: string): InstallCommand => ({ command, ignoreFailure: true });
  const up = (iface: string, port: number) =>
    strict(
      `ip link show ${iface} >/dev/null 2>&1 || ip link add ${iface} type wireguard 2>/dev/null || wireguard-go ${iface}` +
        ` && wg set ${iface} private-key /etc/wireguard/private_key listen-port ${port}` +
        ` && ip link set ${iface} mtu ${mtu} up`,
    );
  const quickConf = (iface: string, port: number, address: string, extraPostUp = "") =>
    `printf '[Interface]\\nAddress = ${address}\\nListenPort = ${port}\\nMTU = ${mtu}\\nPostUp = wg set %%i private-key /etc/wireguard/private_key\\n${extraPostUp}' > /etc/wireguard/${iface}.conf`;
  return [
    strict("echo STATUS_UPDATE:INSTALLING_WIREGUARD"),
    strict("echo PROGRESS_UPDATE:5%"),
    strict(
      "command -v wg >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends wireguard-tools; }",
    ),
    strict(
      "ip link add runos-probe type wireguard 2>/dev/null && ip link del runos-probe" +
        " || command -v wireguard-go >/dev/null 2>&1" +
        " || { apt-get update && apt-get install -y --no-install-recommends wireguard-go; }",
    ),
    strict("echo PROGRESS_UPDATE:30%"),
    strict(
      "umask 077 && mkdir -p /etc/wireguard && { [ -s /etc/wireguard/private_key ] || wg genkey > /etc/wireguard/private_key; }" +
        " && wg pubkey < /etc/wireguard/private_key > /etc/wireguard/public_key.tmp" +
        " && chmod 644 /etc/wireguard/public_key.tmp && mv /etc/wireguard/public_key.tmp /etc/wireguard/public_key",
    ),
    strict("echo STATUS_UPDATE:CONFIGURING_WIREGUARD"),
    up("wg0", input.listenPort),
    strict(`ip address replace ${input.overlayIp}/24 dev wg0`),
    up("wg1", wg1Port),
    // Users (wg1) are reached through their gateway node over wg0; the gateway itself gets a /32
    // route per user on wg1 from the agent. wg0 and wg1 are routable to each other.
    strict(`ip address replace ${input.overlayIp}/32 dev wg1 && ip route replace ${userSubnet} dev wg0`),
    strict("sysctl -qw net.ipv4.ip_forward=1"),
    strict("echo PROGRESS_UPDATE:80%"),
    // On a systemd machine the interfaces come back at boot; the agent re-applies its peers.
    lenient(
      `[ -d /run/systemd/system ] || exit 0; ${quickConf("wg0", input.listenPort, `${input.overlayIp}/24`, `PostUp = ip route replace ${userSubnet} dev %%i\\n`)}` +
        ` && ${quickConf("wg1", wg1Port, `${input.overlayIp}/32`)}` +
        ` && printf 'net.ipv4.ip_forward = 1\\n' > /etc/sysctl.d/99-runos-overlay.conf` +
        " && systemctl enable wg-quick@wg0 wg-quick@wg1",
    ),
    strict("echo PROGRESS_UPDATE:100%"),
    strict("echo STATUS_UPDATE:WIREGUARD_INSTALLED"),
  ];
}
