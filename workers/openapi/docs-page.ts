import { h, type Html } from '../explorer/pages/html.ts';
import type { Document } from '../explorer/pages/layout.ts';
import { scrollTable, section } from '../explorer/pages/parts.ts';
import { catalogue } from './catalogue.ts';
import { buildOpenApiDocument, errorsOf } from './document.ts';
import type { Operation } from './operation.ts';

// GET /docs: the OpenAPI document as one page, rendered on the server from the same catalogue,
// inside the explorer's layout (its strict CSP: no script, nothing from elsewhere). Schemas
// are shown as the document states them, folded in <details>.

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as loose JSON; its own schema is checked by test/worker/openapi.test.ts
type Json = Record<string, any>;

export function docsPage(operations: Operation[] = catalogue): Document {
  const doc = buildOpenApiDocument(operations) as Json;
  const tags = [...new Set(operations.map((o) => o.tag))];
  const body = h`<h1>gridplane API</h1>
<p class="lede">${doc.info.description}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}). A route marked <span class="tag">API key</span> needs <code>Authorization: Bearer &lt;api key&gt;</code>; the <code>gridplane</code> command-line tool (README, "Renters' tools") calls these routes for you.</p>
<nav aria-label="Sections"><p>${tags.map((t, i) => h`${i > 0 ? ' · ' : ''}<a href="#tag-${t}">${t}</a>`)}</p></nav>
${tags.map((tag) => section(`tag-${tag}`, tag, h`${operations.filter((o) => o.tag === tag).map((op) => operationBlock(op, doc.paths[op.path][op.method] as Json))}`))}`;
  return { title: 'API · gridplane', description: 'The gridplane HTTP API: every public route, its inputs, answers and errors.', body };
}

function operationBlock(op: Operation, spec: Json): Html {
  const params = (spec.parameters as Json[]) ?? [];
  const body = spec.requestBody as Json | undefined;
  return h`<article id="${op.operationId}"><h3><code>${op.method.toUpperCase()} ${op.path}</code> ${op.auth === 'apiKey' ? h`<span class="tag">API key</span>` : null}</h3>
<p>${op.summary}.${op.description ? ` ${op.description}` : ''} <span class="muted">(${op.operationId})</span></p>
${
  params.length > 0
    ? scrollTable(
        `Parameters of ${op.operationId}`,
        h`<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr></thead><tbody>${params.map(
          (p) =>
            h`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${JSON.stringify(p.schema)}</code>${p.description ? h` ${p.description}` : null}</td></tr>`,
        )}</tbody></table>`,
      )
    : null
}
${body ? schemaBlock(`Request body${body.required ? '' : ' (optional)'}`, body.content['application/json'].schema) : null}
${op.responses.map((r) => schemaBlock(`${r.status}: ${r.description}`, spec.responses[String(r.status)].content['application/json'].schema))}
${scrollTable(
  `Errors of ${op.operationId}`,
  h`<table><thead><tr><th>status</th><th>code</th><th>when</th></tr></thead><tbody>${errorsOf(op).map(
    (e) => h`<tr><td class="n">${e.status}</td><td><code>${e.code}</code></td><td>${e.when}</td></tr>`,
  )}</tbody></table>`,
)}
</article>`;
}

const schemaBlock = (label: string, schema: unknown): Html =>
  h`<details><summary>${label}</summary><pre><code>${JSON.stringify(schema, null, 2)}</code></pre></details>`;
