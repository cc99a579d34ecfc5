import { resolveTarget } from '../net/resolve';
import type { DomainDeps } from './deps';
import { GatewayError } from './errors';

/**
 * Refuses a URL the gateway may not send to, with 400 `url_not_allowed` naming `field`: a scheme
 * other than https (http only with `allowHttp`), credentials, a forbidden port or literal
 * address, or a host name that resolves to a forbidden address.
 *
 * A host name that resolves to a forbidden address and one that does not resolve at all get the
 * same answer, and neither names the addresses: otherwise a caller could map the gateway's
 * internal DNS (which names exist, where they point) through this error.
 */
export async function assertUrlAllowed(
  deps: Pick<DomainDeps, 'policy' | 'resolve' | 'allowHttp'>,
  raw: string,
  field: string,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(field, 'must be an absolute URL');
  }
  if (!(url.protocol === 'https:' || (deps.allowHttp && url.protocol === 'http:'))) {
    throw refused(field, deps.allowHttp ? 'must use https:// or http://' : 'must use https://');
  }
  // Literal addresses, ports and credentials: the reason only repeats what the caller sent.
  const checked = deps.policy.checkUrl(url);
  if (!checked.allowed) {
    throw refused(field, `is not allowed: ${checked.reason.replace(/\.$/, '')}`);
  }
  const target = await resolveTarget(url, deps.policy, deps.resolve);
  if (!target.ok) {
    throw refused(
      field,
      'has a host that does not resolve to an allowed address (private, loopback, link-local and other internal addresses are refused)',
    );
  }
}

function refused(field: string, predicate: string): GatewayError {
  return new GatewayError('url_not_allowed', `The ${field} ${predicate}.`, {
    details: [{ path: field, message: predicate }],
  });
}
