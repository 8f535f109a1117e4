// The stand-in every template runs under the process runtime (tests and the local stack, where
// an agent runs commands on its host instead of images): a tiny Node HTTP server, passed inline
// with `node -e` so it needs no file on the node. It says SIMULATED in everything it serves; it is
// never what a Docker host runs (templates.ts gives the real image and command for those).
//
// Env: PORT (the agent's), GP_TEMPLATE (which template it stands in for), GP_TOKEN (when set,
// every path but /health needs it, as `?token=` or `Authorization: token|Bearer <token>`),
// GRIDPLANE_BASE_PATH (the public base path, `/e/<id>/`, given to every replica): a path under
// it is served as the path after it, as Jupyter serves under its base_url (`keep` endpoints get
// the whole path; `strip` ones the rest, served as is), and the page's links are under it.
// No WebSocket: under the process runtime the stand-in runs with `node -e` in an empty directory,
// where `ws` cannot be required, and the shell's command endpoint is plain HTTP instead.
// What it answers: /health and /api (the templates' health paths) → ok without the token; `chat`: GET /v1/models and POST /v1/chat/completions in the
// OpenAI shape; `shell`: POST /run runs the body with `sh -c` (10 s, 64 KiB of output) and returns
// its output; any other path → an HTML page naming the template and SIMULATED.

export const SIMULATED_SERVER = [
  "const http=require('http'),{execFile}=require('child_process');",
  "const kind=process.env.GP_TEMPLATE||'custom',token=process.env.GP_TOKEN||'',base=process.env.GRIDPLANE_BASE_PATH||'/';",
  "const send=(res,status,type,body)=>{res.writeHead(status,{'content-type':type});res.end(body)};",
  'http.createServer((req,res)=>{',
  "const u=new URL(req.url,'http://replica'),full=u.pathname;",
  "const p=base!=='/'&&(full+'/').startsWith(base)?'/'+full.slice(base.length):full;",
  "if(p==='/health'||p==='/api')return send(res,200,'text/plain','ok');",
  "const auth=req.headers.authorization||'';",
  "if(token&&u.searchParams.get('token')!==token&&auth!=='token '+token&&auth!=='Bearer '+token)return send(res,403,'text/plain','SIMULATED '+kind+': this needs its token');",
  "let body='';req.setEncoding('utf8');req.on('data',c=>{if(body.length<65536)body+=c});req.on('end',()=>{",
  "if(kind==='chat'&&p==='/v1/models')return send(res,200,'application/json',JSON.stringify({object:'list',data:[{id:'simulated-chat',object:'model',owned_by:'gridplane'}]}));",
  "if(kind==='chat'&&p==='/v1/chat/completions'){let q='';try{const m=JSON.parse(body).messages||[];q=String((m[m.length-1]||{}).content||'')}catch{}",
  "return send(res,200,'application/json',JSON.stringify({id:'chatcmpl-simulated',object:'chat.completion',created:Math.floor(Date.now()/1000),model:'simulated-chat',choices:[{index:0,finish_reason:'stop',message:{role:'assistant',content:'SIMULATED answer to: '+q}}]}))}",
  "if(kind==='shell'&&req.method==='POST'&&p==='/run')return execFile('sh',['-c',body],{timeout:10000,maxBuffer:65536},(e,out,err)=>send(res,200,'text/plain',String(out)+String(err)+(e&&e.code!==undefined?'exit '+e.code+'\\n':'')));",
  "const esc=s=>s.replace(/[&<>\"]/g,c=>'&#'+c.charCodeAt(0)+';');",
  "send(res,200,'text/html; charset=utf-8','<!doctype html><meta charset=utf-8><title>SIMULATED '+esc(kind)+'</title><h1>SIMULATED '+esc(kind)+'</h1><p>A stand-in served by the process runtime (tests, local stack), not the real image. Path: '+esc(full)+'</p><p>Base path: '+esc(base)+'</p><p><a href=\"'+esc(base)+'lab\">lab</a></p>')",
  "})}).listen(Number(process.env.PORT),'127.0.0.1');",
].join('\n');
