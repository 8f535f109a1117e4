// The stand-in every template runs under the process runtime (tests and the local stack, where
// an agent runs commands on its host instead of images): a small Node HTTP server, passed inline
// so it needs no file on the node. It says SIMULATED in everything it serves; it is never what a
// Docker host runs (templates.ts gives the real image and command for those).
//
// How it runs: `node -e <loader> -- <part>…`, the loader evaluating the parts joined. A command
// argument is at most 4096 characters (protocol/job-rules.ts), so the script travels in parts.
// Nothing outside Node's own modules: under the process runtime it runs in an empty temporary
// directory (the replica's, its cwd and HOME), where `ws` cannot be required, so its WebSocket
// is written here by hand (RFC 6455: the handshake, masked client frames, fragments, ping, close).
//
// Env: PORT (the agent's), GP_TEMPLATE (which template it stands in for), GP_TOKEN (when set,
// every path but /health and /api needs it, as `?token=` or `Authorization: token|Bearer <token>`;
// the WebSocket upgrade too), GRIDPLANE_BASE_PATH (the public base path, `/e/<id>/`, given to
// every replica): a path under it is served as the path after it, as Jupyter serves under its
// base_url (`keep` endpoints get the whole path; `strip` ones the rest, served as is).
//
// What it answers: /health and /api (the templates' health paths) → ok without the token;
// `chat`: GET /v1/models and POST /v1/chat/completions in the OpenAI shape; `shell`: a web
// terminal at /terminals/1 (the path Jupyter's terminal has in the real image): an HTML page
// whose script opens a WebSocket to the same URL + `/ws` (its query, so its token, kept). Each
// text line received on that socket runs as `/bin/sh -c <line>` in the replica's directory, one
// at a time, no TTY, stdin closed, 30 s and 1 MiB of output each; its output comes back as it
// is written. Any other path → an HTML page naming the template and SIMULATED.
//
// The terminal's messages (JSON text, server → client): {"type":"hello","simulated":true,"cwd",
// "note"} once; {"type":"output","stream":"stdout"|"stderr","data"}; {"type":"exit","code":
// <number|null>,"reason"?} after each line. Client → server: text, one command per line.
// `gridplane shell <page URL>` (cli/src/shell.ts) speaks it from a terminal.

/** The terminal page: a line to type into and what came back; its script finds the socket from its own URL. */
const TERMINAL_PAGE = String.raw`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SIMULATED shell</title><link rel="icon" href="data:,">
<style>
body{margin:0;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#111;color:#ddd}
header{padding:8px 12px;background:#7a2e00;color:#fff}h1{font-size:16px;margin:0 0 4px}
pre{margin:0;padding:12px;white-space:pre-wrap;word-break:break-all;height:calc(100vh - 150px);overflow:auto}
form{display:flex;gap:8px;padding:8px 12px}input{flex:1;font:inherit;background:#222;color:#eee;border:1px solid #555;padding:6px}
.err{color:#f88}.sys{color:#8af}
</style>
<header><h1>SIMULATED shell</h1>A stand-in served by the process runtime (tests, local stack), not the real image's terminal:
each line runs with /bin/sh -c in the replica's working directory, one at a time, without a TTY (no interactive programs).</header>
<pre id="out" aria-live="polite"></pre>
<form id="form"><label for="cmd">$</label><input id="cmd" autocomplete="off" spellcheck="false" autofocus><button>Run</button></form>
<script>
(function () {
  var out = document.getElementById('out'), form = document.getElementById('form'), cmd = document.getElementById('cmd');
  function show(text, cls) {
    var s = document.createElement('span');
    if (cls) s.className = cls;
    s.textContent = text;
    out.appendChild(s);
    out.scrollTop = out.scrollHeight;
  }
  var u = new URL(location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/ws';
  u.hash = '';
  var ws = new WebSocket(u.href);
  ws.onopen = function () { show('connected\n', 'sys'); };
  ws.onmessage = function (e) {
    var m;
    try { m = JSON.parse(e.data); } catch (x) { return; }
    if (m.type === 'output') show(String(m.data), m.stream === 'stderr' ? 'err' : '');
    else if (m.type === 'exit') show('[exit ' + (m.code === null ? m.reason || 'killed' : m.code) + ']\n', 'sys');
    else if (m.type === 'hello') show(String(m.note) + '\n', 'sys');
  };
  ws.onclose = function (e) { show('disconnected (' + e.code + ')\n', 'sys'); cmd.disabled = true; };
  form.onsubmit = function (e) {
    e.preventDefault();
    if (ws.readyState !== 1 || !cmd.value.trim()) return;
    show('$ ' + cmd.value + '\n', 'sys');
    ws.send(cmd.value);
    cmd.value = '';
  };
})();
</script>
</html>
`;

const SCRIPT = String.raw`
const http = require('http'), crypto = require('crypto'), { spawn } = require('child_process');
const kind = process.env.GP_TEMPLATE || 'custom', token = process.env.GP_TOKEN || '', base = process.env.GRIDPLANE_BASE_PATH || '/';
const dir = process.cwd(), TERMINAL = '/terminals/1', PAGE = ${JSON.stringify(TERMINAL_PAGE)};
const LINE_MAX = 65536, OUTPUT_MAX = 1048576, TIMEOUT_S = 30;
// Each command is its own process group (so a timeout ends what it started); the runtime's stop
// (SIGTERM to this server's group) ends them too.
const running = new Set();
const killGroup = (c) => { try { process.kill(-c.pid, 'SIGKILL'); } catch {} };
process.on('SIGTERM', () => { for (const c of running) killGroup(c); process.exit(0); });
const send = (res, status, type, body) => { res.writeHead(status, { 'content-type': type }); res.end(body); };
const esc = (s) => s.replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
const route = (url) => {
  const u = new URL(url, 'http://replica'), full = u.pathname;
  return { u, full, p: base !== '/' && (full + '/').startsWith(base) ? '/' + full.slice(base.length) : full };
};
const authorised = (u, headers) => {
  const auth = headers.authorization || '';
  return !token || u.searchParams.get('token') === token || auth === 'token ' + token || auth === 'Bearer ' + token;
};
const server = http.createServer((req, res) => {
  const { u, full, p } = route(req.url);
  if (p === '/health' || p === '/api') return send(res, 200, 'text/plain', 'ok');
  if (!authorised(u, req.headers)) return send(res, 403, 'text/plain', 'SIMULATED ' + kind + ': this needs its token');
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { if (body.length < LINE_MAX) body += c; });
  req.on('end', () => {
    if (kind === 'chat' && p === '/v1/models')
      return send(res, 200, 'application/json', JSON.stringify({ object: 'list', data: [{ id: 'simulated-chat', object: 'model', owned_by: 'gridplane' }] }));
    if (kind === 'chat' && p === '/v1/chat/completions') {
      let q = '';
      try { const m = JSON.parse(body).messages || []; q = String((m[m.length - 1] || {}).content || ''); } catch {}
      return send(res, 200, 'application/json', JSON.stringify({ id: 'chatcmpl-simulated', object: 'chat.completion', created: Math.floor(Date.now() / 1000),
        model: 'simulated-chat', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'SIMULATED answer to: ' + q } }] }));
    }
    if (kind === 'shell' && req.method === 'GET' && p === TERMINAL) return send(res, 200, 'text/html; charset=utf-8', PAGE);
    send(res, 200, 'text/html; charset=utf-8', '<!doctype html><meta charset=utf-8><title>SIMULATED ' + esc(kind) + '</title><h1>SIMULATED ' + esc(kind) +
      '</h1><p>A stand-in served by the process runtime (tests, local stack), not the real image. Path: ' + esc(full) + '</p><p>Base path: ' + esc(base) +
      '</p><p><a href="' + esc(base) + (kind === 'shell' ? 'terminals/1' : 'lab') + '">' + (kind === 'shell' ? 'terminal' : 'lab') + '</a></p>');
  });
});
server.on('upgrade', (req, sock, head) => {
  sock.on('error', () => {});
  const { u, p } = route(req.url);
  const refuse = (status, text) => sock.end('HTTP/1.1 ' + status + '\r\ncontent-type: text/plain\r\ncontent-length: ' + Buffer.byteLength(text) + '\r\nconnection: close\r\n\r\n' + text);
  if (kind !== 'shell' || p !== TERMINAL + '/ws') return refuse('404 Not Found', 'SIMULATED ' + kind + ': no WebSocket here');
  if (!authorised(u, req.headers)) return refuse('403 Forbidden', 'SIMULATED shell: this needs its token');
  const key = String(req.headers['sec-websocket-key'] || '');
  if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket' || req.headers['sec-websocket-version'] !== '13' || !/^[A-Za-z0-9+/]{22}==$/.test(key))
    return refuse('400 Bad Request', 'SIMULATED shell: expected a WebSocket upgrade, version 13');
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  terminal(sock, head);
});
function terminal(sock, head) {
  let buf = Buffer.from(head || []), parts = [], size = 0, closed = false, child = null;
  const queue = [];
  const frame = (op, data) => {
    const b = Buffer.from(data), n = b.length;
    let h;
    if (n < 126) h = Buffer.from([0x80 | op, n]);
    else if (n < 65536) h = Buffer.from([0x80 | op, 126, n >> 8, n & 255]);
    else { h = Buffer.alloc(10); h[0] = 0x80 | op; h[1] = 127; h.writeBigUInt64BE(BigInt(n), 2); }
    sock.write(Buffer.concat([h, b]));
  };
  const msg = (o) => { if (!closed) frame(1, JSON.stringify(o)); };
  const stop = () => {
    queue.length = 0;
    if (child) killGroup(child);
  };
  const close = (code, why) => {
    if (closed) return;
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code);
    frame(8, Buffer.concat([b, Buffer.from(why)]));
    closed = true;
    stop();
    sock.end();
  };
  const next = () => {
    if (child || closed || queue.length === 0) return;
    const line = queue.shift();
    let bytes = 0, why = '';
    const c = (child = spawn('/bin/sh', ['-c', line], { cwd: dir, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    if (c.pid) running.add(c);
    const kill = (reason) => { if (!why) why = reason; killGroup(c); };
    const timer = setTimeout(() => kill('timed out after ' + TIMEOUT_S + ' s'), TIMEOUT_S * 1000);
    for (const stream of ['stdout', 'stderr'])
      c[stream].setEncoding('utf8').on('data', (d) => {
        bytes += Buffer.byteLength(d);
        if (bytes > OUTPUT_MAX) return kill('over ' + OUTPUT_MAX + ' bytes of output');
        msg({ type: 'output', stream, data: d });
      });
    let done = false;
    const finish = (code, reason) => {
      if (done) return;
      done = true;
      running.delete(c);
      clearTimeout(timer);
      child = null;
      msg(reason ? { type: 'exit', code: null, reason } : { type: 'exit', code });
      next();
    };
    c.on('error', (e) => finish(null, 'could not start: ' + e.message));
    c.on('close', (code, signal) => finish(code, why || (signal ? 'killed by ' + signal : '')));
  };
  const take = (text) => {
    for (const raw of text.split('\n')) { const l = raw.replace(/\r$/, ''); if (l.trim()) queue.push(l); }
    next();
  };
  const onData = (d) => {
    buf = Buffer.concat([buf, d]);
    while (!closed && buf.length >= 2) {
      const fin = buf[0] & 0x80, op = buf[0] & 15, control = op >= 8;
      let len = buf[1] & 127, off = 2;
      if (buf[0] & 0x70) return close(1002, 'no extensions were agreed');
      if (!(buf[1] & 0x80)) return close(1002, 'a client frame must be masked');
      if (![0, 1, 2, 8, 9, 10].includes(op)) return close(1002, 'unknown opcode');
      if (control && (len > 125 || !fin)) return close(1002, 'bad control frame');
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; const big = buf.readBigUInt64BE(2); len = big > BigInt(LINE_MAX) ? LINE_MAX + 1 : Number(big); off = 10; }
      if (len > LINE_MAX) return close(1009, 'a message is at most ' + LINE_MAX + ' bytes');
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4), data = Buffer.alloc(len);
      for (let i = 0; i < len; i++) data[i] = buf[off + 4 + i] ^ mask[i & 3];
      buf = buf.subarray(off + 4 + len);
      if (op === 8) return close(1000, '');
      if (op === 9) { frame(10, data); continue; }
      if (op === 10) continue;
      if ((op === 0) !== (parts.length > 0)) return close(1002, op === 0 ? 'a continuation with nothing to continue' : 'a new message inside a fragmented one');
      parts.push(data);
      size += len;
      if (size > LINE_MAX) return close(1009, 'a message is at most ' + LINE_MAX + ' bytes');
      if (!fin) continue;
      const whole = Buffer.concat(parts);
      parts = [];
      size = 0;
      let text;
      try { text = new TextDecoder('utf-8', { fatal: true }).decode(whole); } catch { return close(1007, 'not UTF-8'); }
      take(text);
    }
  };
  sock.on('data', onData);
  sock.on('close', () => { closed = true; stop(); });
  msg({ type: 'hello', simulated: true, cwd: dir, note: 'SIMULATED shell (process runtime): each line runs with /bin/sh -c in ' + dir + ', one at a time, no TTY, ' + TIMEOUT_S + ' s each.' });
  if (buf.length > 0) onData(Buffer.alloc(0));
}
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Evaluates its arguments, joined: the script's parts. */
const LOADER = "eval(process.argv.slice(1).join(''))";
/** Under the per-argument limit (protocol/job-rules.ts MAX_VALUE_CHARS, 4096). */
const PART_CHARS = 4000;

function parts(script: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < script.length; i += PART_CHARS) out.push(script.slice(i, i + PART_CHARS));
  return out;
}

/** The stand-in's whole command: `node -e <loader> -- <part>…`. */
export const SIMULATED_SERVER_COMMAND: readonly string[] = ['node', '-e', LOADER, '--', ...parts(SCRIPT)];
