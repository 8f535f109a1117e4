import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';

// A stand-in for Telegram's Bot API, started once for the worker suite (vitest globalSetup).
// The Worker reaches it through TELEGRAM_API_ROOT; every call is recorded, and tests read the
// record over HTTP. Failures are scripted per chat id (files run in parallel, each with its own
// chats): `POST /__control { chatId, fail: { status, count, retryAfter? } }` makes the next
// `count` calls for that chat fail (429 with retry_after, 5xx, or 0 = connection dropped);
// `delayMs` holds each of them that long first, and status 200 with a delay is a slow success;
// `{ chatId, clear: true }` ends an outage. `GET /__requests?chatId=&method=` lists the record.
// Uploads (sendPhoto with a file) come as multipart/form-data, as the Bot API takes them: the
// fields are recorded like a JSON body, and a file (sent as its own part, or named by
// `attach://<part>`) as `{ filename, type, size, base64 }` in its field.

export interface RecordedCall {
  seq: number;
  at: number;
  method: string;
  token: string;
  chatId: string | null;
  body: Record<string, unknown>;
  /** What the stand-in answered: 200, 429, 5xx, or 0 for a dropped connection. */
  status: number;
}

interface FailRule {
  status: number;
  remaining: number;
  delayMs?: number;
  retryAfter?: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    telegramApiPort: number;
  }
}

export default async function setup(project: TestProject) {
  const calls: RecordedCall[] = [];
  const rules = new Map<string, FailRule>();
  let seq = 0;

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/__control' && req.method === 'POST') return control(await jsonOf(req), res);
      if (url.pathname === '/__requests') {
        const chatId = url.searchParams.get('chatId');
        const method = url.searchParams.get('method');
        const list = calls.filter((c) => (!chatId || c.chatId === chatId) && (!method || c.method === method));
        return send(res, 200, list);
      }
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
      if (!match) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      const [, token = '', method = ''] = match;
      const body = await jsonOf(req);
      const chatId = body.chat_id === undefined ? null : String(body.chat_id);
      const call: RecordedCall = { seq: ++seq, at: Date.now(), method, token, chatId, body, status: 200 };
      calls.push(call);
      const rule = chatId ? rules.get(chatId) : undefined;
      if (rule && rule.remaining > 0) {
        rule.remaining--;
        // A slow Bot API: the call is held, then answered (normally when the status is 200).
        if (rule.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
        if (rule.status === 200) return send(res, 200, { ok: true, result: resultFor(method, body, call.seq) });
        call.status = rule.status;
        if (rule.status === 0) return req.socket.destroy();
        if (rule.status === 429) {
          const retryAfter = rule.retryAfter ?? 1;
          return send(res, 429, {
            ok: false,
            error_code: 429,
            description: `Too Many Requests: retry after ${retryAfter}`,
            parameters: { retry_after: retryAfter },
          });
        }
        return send(res, rule.status, {
          ok: false,
          error_code: rule.status,
          description: rule.status >= 500 ? 'Bad Gateway' : 'Bad Request: scripted failure',
        });
      }
      return send(res, 200, { ok: true, result: resultFor(method, body, call.seq) });
    } catch (error) {
      send(res, 500, { ok: false, error_code: 500, description: String(error) });
    }
  });

  function control(body: Record<string, unknown>, res: ServerResponse) {
    const chatId = String(body.chatId ?? '');
    if (!chatId) return send(res, 400, { error: 'chatId is required' });
    if (body.clear) rules.delete(chatId);
    const fail = body.fail as { status: number; count?: number; retryAfter?: number; delayMs?: number } | undefined;
    if (fail)
      rules.set(chatId, {
        status: fail.status,
        remaining: fail.count ?? Number.MAX_SAFE_INTEGER,
        retryAfter: fail.retryAfter,
        delayMs: fail.delayMs,
      });
    send(res, 200, { ok: true });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('telegramApiPort', (server.address() as AddressInfo).port);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

function resultFor(method: string, body: Record<string, unknown>, seq: number): unknown {
  const chat = { id: Number(body.chat_id ?? 0), type: 'private', first_name: 'Test' };
  switch (method) {
    case 'sendMessage':
    case 'editMessageText':
      return { message_id: seq, date: Math.floor(Date.now() / 1000), chat, text: body.text ?? '' };
    case 'sendPhoto':
      return {
        message_id: seq,
        date: Math.floor(Date.now() / 1000),
        chat,
        caption: body.caption,
        photo: [{ file_id: `photo${seq}`, file_unique_id: `p${seq}`, width: 1, height: 1 }],
      };
    case 'getMe':
      return { id: 1, is_bot: true, first_name: 'stand-in', username: 'stand_in_bot' };
    case 'getUpdates':
      return [];
    case 'getWebhookInfo':
      return { url: '', has_custom_certificate: false, pending_update_count: 0 };
    default:
      return true;
  }
}

/** A file the bot uploaded, as recorded. */
export interface RecordedFile {
  filename: string;
  type: string;
  size: number;
  base64: string;
}

async function jsonOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const contentType = String(req.headers['content-type'] ?? '');
  if (contentType.startsWith('multipart/form-data')) return formOf(Buffer.concat(chunks), contentType);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text };
  }
}

async function formOf(bytes: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  const files = new Map<string, RecordedFile>();
  for (const part of multipartParts(bytes, contentType)) {
    if (part.filename === null) {
      const value = part.data.toString('utf8');
      // Objects (reply_markup, …) travel as JSON text in a form, numbers as digits.
      body[part.name] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    } else {
      const file = { filename: part.filename, type: part.type, size: part.data.length, base64: part.data.toString('base64') };
      files.set(part.name, file);
      body[part.name] = file;
    }
  }
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string' && value.startsWith('attach://')) body[key] = files.get(value.slice('attach://'.length)) ?? value;
  }
  return body;
}

/**
 * multipart/form-data parts (RFC 7578) as Telegram reads them: headers are case-insensitive and
 * parameters may be unquoted (grammY writes `content-disposition:form-data;name="x";filename=y`,
 * which stricter parsers such as undici's refuse).
 */
function multipartParts(bytes: Buffer, contentType: string): { name: string; filename: string | null; type: string; data: Buffer }[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts = [];
  let at = bytes.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (bytes.subarray(start, start + 2).toString() === '--') break;
    const next = bytes.indexOf(delimiter, start);
    if (next === -1) break;
    const part = bytes.subarray(start + 2, next - 2); // the CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const param = (key: string) => new RegExp(`;\\s*${key}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(disposition);
    const name = param('name');
    const filename = param('filename');
    parts.push({
      name: name?.[1] ?? name?.[2] ?? '',
      filename: filename ? (filename[1] ?? filename[2] ?? '') : null,
      type: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? 'text/plain',
      data: part.subarray(split + 4),
    });
    at = next;
  }
  return parts;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
