/** wg0's default port (the original contract's implied port) and wg1's. */
export const wg0DefaultPort = 51820;
export const wg1Port = 51821;

/**
 * A wg0 listen port that no other node behind the same NAT (same observed address) uses.
 * Masquerading NATs keep a source port only while it is free: two nodes behind one NAT that
 * both listen on 51820 cannot both keep it toward the same remote, so the second would be
 * unreachable from peers behind another NAT. Distinct ports keep every mapping predictable.
 */
export function chooseListenPort(takenBySameNat: readonly number[]): number {
  const taken = new Set(takenBySameNat);
  for (let port = wg0DefaultPort; port < wg0DefaultPort + 200; port += 1) {
    if (port !== wg1Port && !taken.has(port)) return port;
  }
  return wg0DefaultPort;
}
