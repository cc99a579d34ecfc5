/**
 * Shared pieces of the security suites (not a test file): a dial hook that records every
 * outbound connection and refuses all of them but the loopback receivers a test names, and a
 * scripted resolver. Together they guarantee that these suites never connect to anything but
 * 127.0.0.1, even when the guard under test is broken.
 */
import type { DialOverride, DialTarget } from '../../src/net/http-client';
import type { ResolvedAddress } from '../../src/net/policy';
import type { Resolver } from '../../src/net/resolve';

/** Records every connection the gateway tries and decides where (if anywhere) it really goes. */
export interface DialRecorder {
  /** Every connection attempt, with the address the gateway meant to reach. */
  readonly dialled: DialTarget[];
  /** The hook for `HttpClientOptions.beforeConnect`. */
  readonly hook: (target: DialTarget) => DialOverride;
  /**
   * Serves `address` (any port) from the loopback receiver at `port`: the connection goes to
   * 127.0.0.1:`port` and is recorded with the address the gateway chose.
   */
  serve(address: string, port: number): void;
  /** Forgets the recorded attempts (not the served addresses). */
  clear(): void;
}

/** A dial recorder that refuses (throws for) every address it has not been told to serve. */
export function dialRecorder(): DialRecorder {
  const dialled: DialTarget[] = [];
  const served = new Map<string, number>();
  return {
    dialled,
    hook(target) {
      dialled.push({ ...target });
      const port = served.get(target.address);
      if (port === undefined) {
        throw new Error(`The test refuses to dial ${target.address}:${target.port}.`);
      }
      return { address: '127.0.0.1', port };
    },
    serve(address, port) {
      served.set(address, port);
    },
    clear() {
      dialled.length = 0;
    },
  };
}

/** What a scripted name answers: addresses, a function of the call count, or NXDOMAIN. */
export type ScriptedAnswer = string[] | ((call: number) => string[]) | 'ENOTFOUND';

/** A resolver that answers from a table (mutable between calls) and counts its lookups. */
export interface ScriptedResolver extends Resolver {
  readonly calls: string[];
  readonly table: Record<string, ScriptedAnswer>;
}

/** Table-driven resolver; a name not in the table is NXDOMAIN (never real DNS). */
export function scriptedResolver(table: Record<string, ScriptedAnswer> = {}): ScriptedResolver {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const count = calls.filter((name) => name === hostname).length;
    const entry = table[hostname] ?? 'ENOTFOUND';
    if (entry === 'ENOTFOUND') {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    const addresses = typeof entry === 'function' ? entry(count) : entry;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls, table });
}

/** Public-looking addresses the suites hand out; only ever reached through `serve`. */
export const PUBLIC_V4 = '93.184.216.34';
export const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';
