import { describe, expect, it } from 'vitest';
import { addressKey, ipv6Prefix64 } from '../../../workers/limits/client-address.ts';

describe('addressKey', () => {
  it('counts IPv4 per address and IPv6 per /64, whatever the spelling', () => {
    expect(addressKey('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(addressKey('2001:db8:1:2::1')).toBe('ip6:2001:0db8:0001:0002::/64');
    expect(addressKey('2001:DB8:1:2:ffff:0:0:9')).toBe('ip6:2001:0db8:0001:0002::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('ip6:2001:0db8:0001:0003::/64');
    expect(addressKey('::1')).toBe('ip6:0000:0000:0000:0000::/64');
    expect(addressKey('2001:db8::')).toBe('ip6:2001:0db8:0000:0000::/64');
  });

  it('an IPv4 client written as IPv6 is that IPv4 client', () => {
    expect(addressKey('::ffff:198.51.100.4')).toBe('ip:198.51.100.4');
  });

  it('no header, no address; text that is not an IPv6 address is kept whole', () => {
    expect(addressKey(undefined)).toBeNull();
    expect(addressKey('  ')).toBeNull();
    expect(addressKey('2001:db8::1::2')).toBe('ip:2001:db8::1::2');
    expect(ipv6Prefix64('1:2:3')).toBeNull();
    expect(ipv6Prefix64('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(ipv6Prefix64('1:2:3:4:5:6:7:8')).toBe('0001:0002:0003:0004');
  });
});
