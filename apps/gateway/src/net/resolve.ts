import { promises as dns } from 'node:dns';
import { type AddressPolicy, parseIp, type ResolvedAddress } from './policy';

/** Resolves a hostname to every address it has; injectable so tests never touch DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (`dns.promises.lookup` with `all: true`), as the OS would connect. */
export const systemResolver: Resolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** Where a request may go: the one checked address to pin the connection to, or why not. */
export type Target =
  | { ok: true; hostname: string; port: number; address: ResolvedAddress }
  | { ok: false; outcome: 'blocked' | 'network_error'; reason: string };

/**
 * Checks a URL, resolves its host and checks every address it resolved to: one refused address
 * refuses the whole host (a name that mixes public and private answers is a rebinding attempt).
 */
export async function resolveTarget(
  url: URL,
  policy: AddressPolicy,
  resolve: Resolver = systemResolver,
): Promise<Target> {
  const checked = policy.checkUrl(url);
  if (!checked.allowed) return { ok: false, outcome: 'blocked', reason: checked.reason };
  const { hostname, port } = checked;
  if (checked.literal) return { ok: true, hostname, port, address: checked.literal };

  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(hostname);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      outcome: 'network_error',
      reason: `DNS lookup of ${hostname} failed${typeof code === 'string' ? ` (${code})` : ''}.`,
    };
  }
  if (addresses.length === 0) {
    return { ok: false, outcome: 'network_error', reason: `${hostname} has no addresses.` };
  }
  for (const { address, family } of addresses) {
    const verdict = policy.checkAddress(address, family);
    if (!verdict.allowed) {
      return {
        ok: false,
        outcome: 'blocked',
        reason: `${hostname} resolves to a forbidden address: ${verdict.reason}.`,
      };
    }
  }
  // Connect to the canonical spelling of what was checked (a resolver may hand back any spelling).
  const first = parseIp(addresses[0]!.address)!;
  return {
    ok: true,
    hostname,
    port,
    address: { address: first.toString(), family: first.kind() === 'ipv4' ? 4 : 6 },
  };
}
