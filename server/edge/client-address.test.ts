import { describe, expect, it } from 'vitest';
import { addressKey, canonicalAddress, clientAddressResolver, parseTrustProxy, type TrustProxy } from './client-address.ts';

type Row = [label: string, trust: TrustProxy, peer: string | undefined, xff: string | string[] | undefined, expected: string];

describe('clientAddressResolver', () => {
  it.each<Row>([
    // Trust off: the header is ignored, whatever it says.
    ['off: no header', false, '203.0.113.7', undefined, '203.0.113.7'],
    ['off: a header is ignored', false, '203.0.113.7', '198.51.100.1', '203.0.113.7'],
    ['off: a header from a loopback peer is ignored too', false, '127.0.0.1', '198.51.100.1', '127.0.0.1'],
    ['off: IPv4-mapped peer', false, '::ffff:203.0.113.7', undefined, '203.0.113.7'],
    ['off: unknown peer', false, undefined, undefined, 'unknown'],
    // Trust on, peer not trusted: the header is a client's claim and is ignored.
    ['on: peer is not a listed proxy', ['10.0.0.1'], '203.0.113.7', '198.51.100.1', '203.0.113.7'],
    // Trust on, peer trusted: the rightmost untrusted hop.
    ['on: one proxy', ['10.0.0.1'], '10.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['on: a client-written hop to the left is not believed', ['10.0.0.1'], '10.0.0.1', '6.6.6.6, 198.51.100.1', '198.51.100.1'],
    ['on: two trusted proxies in a chain', ['10.0.0.0/8'], '10.0.0.1', '6.6.6.6, 198.51.100.1, 10.0.0.2', '198.51.100.1'],
    ['on: preset loopback', ['loopback'], '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['on: IPv4-mapped peer matches an IPv4 entry', ['127.0.0.1'], '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['on: IPv6 proxy range and client', ['fd00::/8'], 'fd00::1', '2001:DB8::5', '2001:db8::5'],
    ['on: two header lines are read as one list', ['10.0.0.1'], '10.0.0.1', ['6.6.6.6', '198.51.100.1'], '198.51.100.1'],
    ['on: empty header', ['10.0.0.1'], '10.0.0.1', '', '10.0.0.1'],
    ['on: spaces and empty entries', ['10.0.0.1'], '10.0.0.1', ' , 198.51.100.1 ,', '198.51.100.1'],
    ['on: every hop trusted: the leftmost', ['10.0.0.0/8'], '10.0.0.1', '10.0.0.3, 10.0.0.2', '10.0.0.3'],
    ['on: a hop that is not an address falls back to the peer', ['10.0.0.1'], '10.0.0.1', 'evil<script>', '10.0.0.1'],
    ['on: unknown peer', ['10.0.0.1'], undefined, '198.51.100.1', 'unknown'],
  ])('%s', (_label, trust, peer, xff, expected) => {
    expect(clientAddressResolver(trust)(peer, xff)).toBe(expected);
  });
});

describe('parseTrustProxy', () => {
  it.each<[string | undefined, TrustProxy]>([
    [undefined, false],
    ['', false],
    ['  ', false],
    ['false', false],
    ['127.0.0.1', ['127.0.0.1']],
    ['loopback, 10.0.0.0/8,fd00::/8', ['loopback', '10.0.0.0/8', 'fd00::/8']],
  ])('%j is %j', (value, expected) => {
    expect(parseTrustProxy(value)).toEqual(expected);
  });

  it.each(['true', '1', '2', 'proxy.example', '10.0.0.0/40', '10.0.0.1,'])('refuses %j', (value) => {
    expect(() => parseTrustProxy(value)).toThrow(/TRUST_PROXY/);
  });
});

describe('canonicalAddress and addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:DB8::1', '2001:db8::1'],
    ['', 'unknown'],
  ])('canonicalAddress(%j) is %j', (input, expected) => expect(canonicalAddress(input)).toBe(expected));

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    ['unknown', 'unknown'],
  ])('addressKey(%j) is %j', (input, expected) => expect(addressKey(input)).toBe(expected));

  it('puts two addresses of one /64 under one key, and of two /64s under two', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff::1'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });
});
