import { h, trusted, type Html } from './html.ts';
import { STYLES } from './styles.ts';

// The document around every page, and its Content-Security-Policy: nothing may load from
// anywhere else, and only this stylesheet and this page's own inline script (by hash) may run.

export interface Document {
  title: string;
  description: string;
  body: Html;
  /** Inline script written by this code base; its hash goes into the CSP. */
  script?: string;
}

export interface RenderedPage {
  html: string;
  csp: string;
}

export async function renderDocument(doc: Document): Promise<RenderedPage> {
  const page = h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${doc.title}</title><meta name="description" content="${doc.description}"><meta name="color-scheme" content="light dark"><link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>${trusted(STYLES)}</style></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">gridplane</a><nav aria-label="Site"><a href="/">Explorer</a><a href="/v1/nodes">Nodes API</a><a href="/v1/network/summary">Summary JSON</a></nav></header>
<main id="main" tabindex="-1">${doc.body}</main>
<footer><p>Served by this gridplane control plane from its own registry. No tracking, nothing loaded from elsewhere.</p></footer>
${doc.script ? h`<script>${trusted(doc.script)}</script>` : null}</body></html>`;
  const hashes = [`'${await sha256Base64(STYLES)}'`];
  const scriptHash = doc.script ? `'${await sha256Base64(doc.script)}'` : "'none'";
  const csp = [
    "default-src 'none'",
    `style-src ${hashes.join(' ')}`,
    `script-src ${scriptHash}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: page.toString(), csp };
}

const hashCache = new Map<string, Promise<string>>();

function sha256Base64(text: string): Promise<string> {
  let hit = hashCache.get(text);
  if (!hit) {
    hit = crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then((d) => {
      let binary = '';
      for (const b of new Uint8Array(d)) binary += String.fromCharCode(b);
      return `sha256-${btoa(binary)}`;
    });
    hashCache.set(text, hit);
  }
  return hit;
}
