import type { HttpClient } from '../net/http-client';
import type { AddressPolicy } from '../net/policy';
import type { Resolver } from '../net/resolve';
import type { Store } from '../storage/store';

/** What the domain functions need; built once by the HTTP app from its dependencies. */
export interface DomainDeps {
  store: Store;
  /** SSRF policy and resolver for URL checks at registration. */
  policy: AddressPolicy;
  resolve: Resolver;
  allowHttp: boolean;
  /** The outbound client, for test sends. */
  httpClient: HttpClient;
  /** Gateway version, for `user-agent: Hookline/<version>`. */
  version: string;
  /** Base of portal links. */
  publicUrl: string;
  /** Most endpoints one tenant may have (`HOOKLINE_MAX_ENDPOINTS_PER_TENANT`); default 1000. */
  maxEndpointsPerTenant?: number;
  now: () => Date;
}
