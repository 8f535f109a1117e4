import { renderDocument, type Document, type RenderedPage } from '../explorer/pages/layout.ts';
import { STYLES } from '../explorer/pages/styles.ts';
import { LINK_STYLES } from './link-styles.ts';

// The link page wears the explorer's layout and stylesheet, plus a few rules of its own, and its
// policy differs in two places: its own stylesheet's hash is allowed, and images may be data:
// URIs, because the Wallet Standard hands every wallet's icon over as one. Nothing else loads.

export async function renderLinkDocument(doc: Document): Promise<RenderedPage> {
  const page = await renderDocument(doc);
  const html = page.html.replace('</head>', `<style>${LINK_STYLES}</style></head>`);
  const [explorerHash, linkHash] = await Promise.all([sha256Base64(STYLES), sha256Base64(LINK_STYLES)]);
  const csp = page.csp
    .split('; ')
    .map((directive) => {
      if (directive.startsWith('style-src ')) return `style-src '${explorerHash}' '${linkHash}'`;
      if (directive.startsWith('img-src ')) return "img-src 'self' data:";
      return directive;
    })
    .join('; ');
  return { html, csp };
}

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let binary = '';
  for (const b of digest) binary += String.fromCharCode(b);
  return `sha256-${btoa(binary)}`;
}
