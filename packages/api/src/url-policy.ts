// The schemas accept http: and https: URLs syntactically; which scheme is allowed is gateway
// policy (HOOKLINE_ALLOW_HTTP), answered with 400 `url_not_allowed` rather than
// `invalid_request`, together with the address checks. These helpers make that check one line.

/** Whether `url` parses and uses `https:`. */
export function isHttpsUrl(url: string): boolean {
  return protocolOf(url) === 'https:';
}

/** Whether `url` uses a scheme the gateway allows: `https:`, or `http:` too with `allowHttp`. */
export function isAllowedUrlScheme(url: string, options: { allowHttp: boolean }): boolean {
  const protocol = protocolOf(url);
  return protocol === 'https:' || (options.allowHttp && protocol === 'http:');
}

function protocolOf(url: string): string | null {
  try {
    return new URL(url).protocol;
  } catch {
    return null;
  }
}
