// Sign-In With Solana message text, built and parsed without I/O. The layout is the one wallets
// produce for `solana:signIn` (Wallet Standard, after EIP-4361):
//
//   <domain> wants you to sign in with your Solana account:
//   <address>
//
//   <statement>
//
//   URI: <uri>
//   Version: 1
//   Chain ID: <mainnet|devnet|testnet|localnet>
//   Nonce: <nonce>
//   Issued At: <ISO 8601>
//   Expiration Time: <ISO 8601>
//   Not Before: <ISO 8601>
//   Request ID: <request id>
//   Resources:
//   - <uri>
//
// Every field after the address is optional and, when present, in this order. gridplane carries
// a chat link token as the resource `urn:gridplane:link:<token>` (see LINK_RESOURCE_PREFIX).

export interface SiwsFields {
  domain: string;
  address: string;
  statement?: string;
  uri?: string;
  version?: string;
  chainId?: string;
  nonce?: string;
  issuedAt?: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

export const LINK_RESOURCE_PREFIX = 'urn:gridplane:link:';

const HEADER_SUFFIX = ' wants you to sign in with your Solana account:';

const FIELDS = [
  ['uri', 'URI: '],
  ['version', 'Version: '],
  ['chainId', 'Chain ID: '],
  ['nonce', 'Nonce: '],
  ['issuedAt', 'Issued At: '],
  ['expirationTime', 'Expiration Time: '],
  ['notBefore', 'Not Before: '],
  ['requestId', 'Request ID: '],
] as const satisfies readonly (readonly [keyof SiwsFields, string])[];

export function buildSiwsMessage(m: SiwsFields): string {
  let text = `${m.domain}${HEADER_SUFFIX}\n${m.address}`;
  if (m.statement) text += `\n\n${m.statement}`;
  const lines: string[] = [];
  for (const [key, label] of FIELDS) {
    const value = m[key];
    if (value) lines.push(`${label}${value}`);
  }
  if (m.resources && m.resources.length > 0) {
    lines.push('Resources:');
    for (const r of m.resources) lines.push(`- ${r}`);
  }
  if (lines.length > 0) text += `\n\n${lines.join('\n')}`;
  return text;
}

const isFieldLine = (line: string) => line === 'Resources:' || FIELDS.some(([, label]) => line.startsWith(label));

/**
 * Parses a message in exactly the layout above, or returns null. A parse is accepted only if
 * building it again gives the same text, so there is one spelling of every message.
 */
export function parseSiwsMessage(text: string): SiwsFields | null {
  if (text.length > 4096 || text.includes('\r')) return null;
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  if (!header.endsWith(HEADER_SUFFIX)) return null;
  const domain = header.slice(0, -HEADER_SUFFIX.length);
  const address = lines[1];
  if (!domain || /\s/.test(domain) || !address) return null;
  const m: SiwsFields = { domain, address };

  let i = 2;
  if (i < lines.length && lines[i] === '' && lines[i + 1] !== undefined && !isFieldLine(lines[i + 1]!)) {
    m.statement = lines[i + 1]!;
    i += 2;
  }
  if (i < lines.length) {
    if (lines[i] !== '') return null;
    i++;
    for (const [key, label] of FIELDS) {
      const line = lines[i];
      if (line?.startsWith(label)) {
        m[key] = line.slice(label.length);
        i++;
      }
    }
    if (lines[i] === 'Resources:') {
      m.resources = [];
      for (i++; i < lines.length && lines[i]!.startsWith('- '); i++) m.resources.push(lines[i]!.slice(2));
    }
    if (i !== lines.length) return null;
  }
  return buildSiwsMessage(m) === text ? m : null;
}

/** The link token a message carries in its resources, if any. */
export function linkTokenOf(m: SiwsFields): string | null {
  const resource = m.resources?.find((r) => r.startsWith(LINK_RESOURCE_PREFIX));
  return resource ? resource.slice(LINK_RESOURCE_PREFIX.length) : null;
}
