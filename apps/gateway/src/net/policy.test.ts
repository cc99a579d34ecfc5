import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from './policy';

const strict = createAddressPolicy({ allowHttp: true, allowNetworks: [] });

describe('WHATWG URL parsing', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
  ])('normalises the IPv4 spelling in %s to %s before the policy sees it', (url, host) => {
    expect(new URL(url).hostname).toBe(host);
  });
});

describe('checkUrl', () => {
  it.each([
    // loopback in every spelling
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/',
    'http://[::ffff:0:127.0.0.1]/',
    // IPv4-compatible, NAT64 and 6to4 embeddings of blocked IPv4
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::127.0.0.1]/',
    'http://[64:ff9b::a00:1]/',
    'http://[64:ff9b:1::a00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[2002:a9fe:a9fe::1]/',
    'http://[::ffff:169.254.169.254]/',
    // cloud metadata and link-local
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    // private, CGNAT, unspecified, multicast, broadcast
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://100.127.255.254/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://239.255.255.250/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    // reserved and documentation ranges
    'http://192.0.0.1/',
    'http://192.0.2.1/',
    'http://198.18.0.1/',
    'http://198.51.100.7/',
    'http://203.0.113.9/',
    'http://240.0.0.1/',
    'http://[2001:db8::1]/',
    'http://[3fff::1]/',
    'http://[100::1]/',
    // ULA, site-local, Teredo
    'http://[fd00::1]/',
    'http://[fc00::1]/',
    'http://[fec0::1]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
  ])('refuses %s', (url) => {
    const verdict = strict.checkUrl(new URL(url));
    expect(verdict.allowed).toBe(false);
  });

  it.each([
    ['https://93.184.216.34/', '93.184.216.34'],
    ['https://8.8.8.8:8443/x', '8.8.8.8'],
    ['https://[2606:4700:4700::1111]/', '2606:4700:4700::1111'],
    ['https://[::ffff:8.8.8.8]/', '::ffff:808:808'],
    ['https://[64:ff9b::8.8.8.8]/', '64:ff9b::808:808'],
    ['https://[2002:808:808::1]/', '2002:808:808::1'],
  ])('accepts the public literal %s', (url, address) => {
    const verdict = strict.checkUrl(new URL(url));
    expect(verdict).toMatchObject({ allowed: true, literal: { address } });
  });

  it('leaves hostnames to the resolver and reports the effective port', () => {
    expect(strict.checkUrl(new URL('https://hooks.example.com/in'))).toEqual({
      allowed: true,
      hostname: 'hooks.example.com',
      port: 443,
      literal: null,
    });
    expect(strict.checkUrl(new URL('http://hooks.example.com:8080/in'))).toMatchObject({
      port: 8080,
    });
  });

  it('says why a loopback literal is refused', () => {
    const verdict = strict.checkUrl(new URL('http://0x7f.1/'));
    expect(verdict).toEqual({
      allowed: false,
      reason: "The URL's host is not allowed: 127.0.0.1 is a loopback address.",
    });
  });

  it('refuses http:// unless allowHttp is set', () => {
    const httpsOnly = createAddressPolicy({ allowHttp: false, allowNetworks: [] });
    const verdict = httpsOnly.checkUrl(new URL('http://hooks.example.com/'));
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.reason).toMatch(/https/);
    expect(httpsOnly.checkUrl(new URL('https://hooks.example.com/')).allowed).toBe(true);
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'ws://example.com/',
  ])('refuses the scheme of %s', (url) => {
    expect(strict.checkUrl(new URL(url)).allowed).toBe(false);
  });

  it.each([
    'https://localhost/',
    'https://LOCALHOST./',
    'https://localhost../',
    'https://api.localhost/',
    'https://a.b.localhost./',
  ])('refuses the loopback name in %s whatever it would resolve to', (url) => {
    const verdict = strict.checkUrl(new URL(url));
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.reason).toMatch(/is a loopback name/);
  });

  it('leaves localhost names to the address check when loopback is an allowed network', () => {
    const dev = createAddressPolicy({ allowHttp: true, allowNetworks: ['127.0.0.0/8'] });
    expect(dev.checkUrl(new URL('http://localhost:8080/'))).toMatchObject({
      allowed: true,
      hostname: 'localhost',
      literal: null,
    });
    expect(strict.checkUrl(new URL('https://notlocalhost.example/')).allowed).toBe(true);
  });

  it('refuses URLs that carry credentials', () => {
    expect(strict.checkUrl(new URL('https://user:pass@hooks.example.com/')).allowed).toBe(false);
  });

  it('refuses ports outside allowedPorts when a list is given', () => {
    const ports = createAddressPolicy({ allowHttp: false, allowNetworks: [], allowedPorts: [443] });
    expect(ports.checkUrl(new URL('https://hooks.example.com/')).allowed).toBe(true);
    expect(ports.checkUrl(new URL('https://hooks.example.com:8443/')).allowed).toBe(false);
  });
});

describe('checkAddress', () => {
  it.each([
    ['127.0.0.1', 4, /loopback/],
    ['0x7f.1', 4, /loopback/],
    ['2130706433', 4, /loopback/],
    ['017700000001', 4, /loopback/],
    ['127.1', 4, /loopback/],
    ['[::1]', 6, /loopback/],
    ['::ffff:10.1.2.3', 6, /IPv4-mapped IPv6 address of 10.1.2.3, a private/],
    ['64:ff9b::192.168.0.1', 6, /NAT64 address of 192.168.0.1, a private/],
    ['2002:6440:1::', 6, /6to4 address of 100.64.0.1, a carrier-grade/],
    ['169.254.169.254', 4, /link-local/],
    ['100.64.0.1', 4, /carrier-grade/],
    ['fd12:3456::1', 6, /unique local/],
    ['fec0::1', 6, /site-local/],
    ['::', 6, /unspecified/],
    ['not-an-ip', 4, /not an IP address/],
  ] as const)('refuses %s with a reason', (ip, family, reason) => {
    const verdict = strict.checkAddress(ip, family);
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.reason).toMatch(reason);
  });

  it.each([
    ['1.1.1.1', 4],
    ['93.184.216.34', 4],
    ['2a00:1450:4001:80b::200e', 6],
    ['::ffff:1.1.1.1', 6],
  ] as const)('accepts the public address %s', (ip, family) => {
    expect(strict.checkAddress(ip, family)).toEqual({ allowed: true });
  });

  it('exempts allowNetworks, including IPv4-mapped forms of an allowed IPv4', () => {
    const dev = createAddressPolicy({
      allowHttp: true,
      allowNetworks: ['127.0.0.0/8', 'fd00::/8', '10.1.2.3'],
    });
    expect(dev.checkAddress('127.0.0.1', 4)).toEqual({ allowed: true });
    expect(dev.checkAddress('127.5.6.7', 4)).toEqual({ allowed: true });
    expect(dev.checkAddress('::ffff:127.0.0.1', 6)).toEqual({ allowed: true });
    expect(dev.checkAddress('fd00::1', 6)).toEqual({ allowed: true });
    expect(dev.checkAddress('10.1.2.3', 4)).toEqual({ allowed: true });
    expect(dev.checkAddress('10.1.2.4', 4).allowed).toBe(false);
    expect(dev.checkAddress('::1', 6).allowed).toBe(false);
    expect(dev.checkAddress('169.254.169.254', 4).allowed).toBe(false);
    expect(dev.checkUrl(new URL('http://127.0.0.1:8080/')).allowed).toBe(true);
  });

  it('rejects a malformed allowNetworks entry at construction, naming it', () => {
    expect(() =>
      createAddressPolicy({ allowHttp: false, allowNetworks: ['127.0.0.0/33'] }),
    ).toThrow(/127\.0\.0\.0\/33/);
    expect(() => createAddressPolicy({ allowHttp: false, allowNetworks: ['localhost'] })).toThrow(
      RangeError,
    );
  });
});
