import * as z from 'zod';
import { ENDPOINT_PATH_PREFIXES } from '../../db/schema/endpoints.ts';
import { jobCommandSchema, jobEnvSchema, jobImageSchema } from '../../protocol/job-rules.ts';
import { SIMULATED_SERVER_COMMAND } from './simulated-server.ts';

// What a chat rental is for (issue 15): templates as data, shared by both bots and the API
// (GET /v1/templates). Each is checked with templateSchema when this module loads (a bad entry
// fails every import of it, and test/unit/templates.test.ts), and a rental of one is an endpoint
// (workers/endpoints) with min = max = 1 replica, created by template-rental.ts.
//
// Two ways to run each template: on a Docker host the `image` runs with `command`; under the
// process runtime (tests and the local stack, where agents run commands on their host) the image
// is ignored and `simulatedCommand` runs a stand-in server that says SIMULATED in what it serves
// (simulated-server.ts). Which one a deployment sends is TEMPLATE_RUNTIME (workers/config.ts).
//
// Access: `token` templates are open at the gateway (a browser cannot send the endpoint key's
// header) and the server itself checks the generated token (Jupyter's own token); `key`
// templates are private endpoints and callers send the endpoint key (Authorization: Bearer, so
// OpenAI clients work unchanged).
//
// Base path: Jupyter builds its links and WebSocket URLs under its `base_url`, so the notebook and
// shell are `pathPrefix: keep` endpoints (the gateway sends the whole /e/{id}/… path) and their
// commands pass GRIDPLANE_BASE_PATH (every replica gets it, workers/endpoints/node-replicas.ts)
// as `--ServerApp.base_url`, through `sh -c` since a command is not run by a shell otherwise.
// Jupyter also checks a WebSocket's Origin against its Host, which the agent sets to
// 127.0.0.1:<port>: `--ServerApp.allow_origin` is the public origin, `{origin}` in env.
//
// Placeholders: `{token}` in env values is a fresh random token per rental, `{origin}` this
// control plane's public origin (`https://host`, no path); in `connect` texts
// `{url}` is the endpoint URL (ends with /), `{token}` the token and `{key}` the endpoint key.

const placeholderText = z.string().min(1).max(400);

export const templateSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'lower-case letters, digits and -, 2-16, starting with a letter'),
  name: z.string().min(1).max(48),
  summary: z.string().min(1).max(200),
  /** null: the renter names the image (the custom template). */
  image: jobImageSchema.nullable(),
  command: jobCommandSchema,
  simulatedCommand: jobCommandSchema.min(1),
  port: z.number().int().min(1).max(65535),
  healthPath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/, 'a path of printable ASCII')
    .max(512),
  env: jobEnvSchema,
  access: z.enum(['token', 'key']),
  /** What the gateway does with /e/{id} (the endpoint's `pathPrefix`): `keep` for apps served under a base URL. */
  pathPrefix: z.enum(ENDPOINT_PATH_PREFIXES),
  /** Fewest MiB of GPU memory it is useful with (the chat model's weights). */
  minVramMb: z.number().int().min(0),
  /** What the renter is shown: one line each, the first is "the one command". */
  connect: z
    .array(z.strictObject({ label: z.string().min(1).max(40), text: placeholderText }))
    .min(1)
    .max(4),
  /** Lines that replace `connect` under the process runtime, where the stand-in differs from the image. */
  simulatedConnect: z
    .array(z.strictObject({ label: z.string().min(1).max(40), text: placeholderText }))
    .min(1)
    .max(4)
    .optional(),
});
export type Template = z.infer<typeof templateSchema>;

export const templateCatalogueSchema = z
  .array(templateSchema)
  .min(1)
  .max(12)
  .refine((list) => new Set(list.map((t) => t.id)).size === list.length, 'template ids must be unique')
  .refine(
    (list) => list.every((t) => t.access === 'key' || Object.values(t.env).some((v) => v.includes('{token}'))),
    'a token template must pass {token} to its server',
  );

/** Under the process runtime every template runs the stand-in; GP_TEMPLATE in its env says which. */
const SIMULATED = [...SIMULATED_SERVER_COMMAND];

/** The Jupyter images' start script under their base path, with the public origin allowed on WebSockets. */
const jupyter = (extra: string) => [
  'sh',
  '-c',
  `exec start-notebook.py --ServerApp.ip=0.0.0.0 --ServerApp.port=8888 --ServerApp.allow_remote_access=True --ServerApp.base_url="$GRIDPLANE_BASE_PATH" --ServerApp.allow_origin="$GP_PUBLIC_ORIGIN"${extra}`,
];

/** The catalogue, in the order chats list it. */
export const TEMPLATES: readonly Template[] = templateCatalogueSchema.parse([
  {
    id: 'notebook',
    name: 'Jupyter notebook (PyTorch)',
    summary: 'JupyterLab with PyTorch and CUDA, in your browser.',
    image: 'quay.io/jupyter/pytorch-notebook:cuda12-python-3.11',
    command: jupyter(''),
    simulatedCommand: SIMULATED,
    port: 8888,
    healthPath: '/api',
    env: { JUPYTER_TOKEN: '{token}', GP_TOKEN: '{token}', GP_TEMPLATE: 'notebook', GP_PUBLIC_ORIGIN: '{origin}' },
    access: 'token',
    pathPrefix: 'keep',
    minVramMb: 0,
    connect: [{ label: 'Open in your browser', text: '{url}lab?token={token}' }],
  },
  {
    id: 'chat',
    name: 'Chat model (OpenAI API)',
    summary: 'Qwen2.5 0.5B Instruct behind an OpenAI-compatible API (vLLM).',
    image: 'vllm/vllm-openai:v0.6.3.post1',
    command: ['--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'chat', '--port', '8000'],
    simulatedCommand: SIMULATED,
    port: 8000,
    healthPath: '/health',
    env: { GP_TEMPLATE: 'chat' },
    access: 'key',
    pathPrefix: 'strip',
    minVramMb: 8192,
    connect: [
      { label: 'OpenAI client', text: 'OPENAI_BASE_URL={url}v1 OPENAI_API_KEY={key}' },
      {
        label: 'Or with curl',
        text: `curl {url}v1/chat/completions -H 'Authorization: Bearer {key}' -H 'content-type: application/json' -d '{"model":"chat","messages":[{"role":"user","content":"Hello"}]}'`,
      },
    ],
  },
  {
    id: 'shell',
    name: 'Shell (web terminal)',
    summary: "A terminal on the GPU machine, in your browser (Jupyter's terminal).",
    // The real image's terminal is Jupyter's (terminado over a WebSocket, in the browser). Under
    // the process runtime the stand-in serves a web terminal at the same path, which the
    // `gridplane shell` CLI also speaks (simulated-server.ts); the CLI does not speak Jupyter's.
    image: 'quay.io/jupyter/base-notebook:python-3.11',
    // default_url is joined to base_url by Jupyter.
    command: jupyter(' --ServerApp.default_url=/terminals/1'),
    simulatedCommand: SIMULATED,
    port: 8888,
    healthPath: '/api',
    env: { JUPYTER_TOKEN: '{token}', GP_TOKEN: '{token}', GP_TEMPLATE: 'shell', GP_PUBLIC_ORIGIN: '{origin}' },
    access: 'token',
    pathPrefix: 'keep',
    minVramMb: 0,
    connect: [{ label: 'Open the terminal', text: '{url}terminals/1?token={token}' }],
    simulatedConnect: [
      { label: 'Connect from a terminal', text: "gridplane shell '{url}terminals/1?token={token}'" },
      { label: 'Or open it in your browser', text: '{url}terminals/1?token={token}' },
    ],
  },
  {
    id: 'custom',
    name: 'Your own image',
    summary: 'Any image that serves HTTP on a port; callers send your endpoint key.',
    image: null,
    command: [],
    simulatedCommand: SIMULATED,
    port: 8000,
    healthPath: '/',
    env: { GP_TEMPLATE: 'custom' },
    access: 'key',
    pathPrefix: 'strip',
    minVramMb: 0,
    connect: [{ label: 'Call it', text: `curl {url} -H 'Authorization: Bearer {key}'` }],
  },
]);

export function templateById(id: string): Template | undefined {
  return TEMPLATES.find((t) => t.id === id);
}

/** `{url}`, `{token}`, `{key}` filled in; a placeholder with no value stays as written. */
export function fillPlaceholders(text: string, values: { url?: string; token?: string; key?: string }): string {
  return text.replace(/\{(url|token|key)\}/g, (whole, name: 'url' | 'token' | 'key') => values[name] ?? whole);
}
