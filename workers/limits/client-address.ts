// The key a client address is counted under. Cloudflare sets CF-Connecting-IP on every request
// that reaches the Worker from the internet (a client cannot remove or forge it); a request
// without it came from inside (a service binding, the test harness calling the Worker directly)
// and has no address to count.
//
// IPv6 is counted per /64: that is what one subscriber gets (RFC 6177), and counting single
// addresses would let one host rotate through 2^64 of them.

export function addressKey(header: string | undefined | null): string | null {
  const text = header?.trim();
  if (!text) return null;
  if (!text.includes(':')) return `ip:${text}`;
  // An IPv4 client written as IPv6 (::ffff:1.2.3.4) is that IPv4 client, not the /64 of all of them.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(text);
  if (mapped) return `ip:${mapped[1]}`;
  const prefix = ipv6Prefix64(text);
  return prefix === null ? `ip:${text.toLowerCase()}` : `ip6:${prefix}::/64`;
}

/** The first four groups of an IPv6 address, expanded and lower-case; null when it is not one. */
export function ipv6Prefix64(address: string): string | null {
  const text = address.toLowerCase().replace(/%.*$/, '');
  if (!/^[0-9a-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - width(head) - width(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const first = groups.slice(0, 4);
  if (first.length < 4 || first.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return first.map((g) => g.padStart(4, '0')).join(':');
}
