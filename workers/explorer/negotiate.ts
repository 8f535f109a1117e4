// Content negotiation for `/`: browsers get the explorer, tools get JSON. Without an Accept
// header (curl, scripts) the answer is JSON; HTML only when text/html is asked for and ranks at
// least as high as JSON.

export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    const weight = Number.isFinite(q) ? q : 0;
    if (type.trim() === 'text/html') html = Math.max(html, weight);
    if (type.trim() === 'application/json') json = Math.max(json, weight);
  }
  return html > 0 && html >= json;
}
