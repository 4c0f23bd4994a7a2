import { describe, expect, it } from 'vitest';
import { assertHostAllowed, isForbiddenAddress } from './address-guard.js';

describe('address guard', () => {
  it('lets public addresses through, IPv4 and IPv6', () => {
    // Every IPv4 address was refused while ::ffff:0:0/96 sat in the block list: a stream to any real SIEM failed.
    for (const address of ['8.8.8.8', '1.1.1.1', '52.95.110.1', '203.0.114.10', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) {
      expect(isForbiddenAddress(address), address).toBe(false);
    }
  });

  it('refuses private, loopback, link-local, CGNAT, documentation and multicast addresses', () => {
    for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '203.0.113.5', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1']) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
  });

  it('judges IPv4-mapped IPv6 addresses by the IPv4 address inside, in either notation', () => {
    expect(isForbiddenAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isForbiddenAddress('::ffff:7f00:1')).toBe(true);
    expect(isForbiddenAddress('::ffff:a9fe:a9fe')).toBe(true);
    expect(isForbiddenAddress('::ffff:8.8.8.8')).toBe(false);
    expect(isForbiddenAddress('::ffff:808:808')).toBe(false);
  });

  it('checks literal hosts before connecting, unless private destinations are allowed', () => {
    expect(() => assertHostAllowed('[::1]', false)).toThrow(/private, loopback and link-local/);
    expect(() => assertHostAllowed('169.254.169.254', false)).toThrow();
    expect(() => assertHostAllowed('8.8.8.8', false)).not.toThrow();
    expect(() => assertHostAllowed('127.0.0.1', true)).not.toThrow();
    expect(() => assertHostAllowed('siem.example.com', false)).not.toThrow();
  });
});
