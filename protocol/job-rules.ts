// What a job may carry to a GPU host, shared by the control plane (it refuses a request that
// breaks a rule with 400 before any escrow is held) and the edge agent (it refuses an offer that
// breaks one before anything runs). One copy, so the two can never disagree: a job the API takes
// is a job the agent runs. Pure: no Node or Workers APIs.
//
// - image: docker/distribution's reference grammar ([domain[:port]/]path[:tag][@digest], lower-case
//   path), so nothing that starts with "-" or holds a space reaches `docker run` as a flag; and a
//   registry named by a DNS name, because the docker daemon pulls from the host's own network;
// - env names [A-Z_][A-Z0-9_]* and values of one line without NUL: the agent hands them to docker
//   in an env file, one NAME=VALUE per line, where a line break would start another variable;
// - command arguments without NUL (execve cannot carry one).

import * as z from 'zod';

export const MAX_ENV_VARS = 64;
export const MAX_VALUE_CHARS = 4096;
export const MAX_COMMAND_ARGS = 64;
export const MAX_GPUS = 64;
export const MAX_DURATION_S = 30 * 24 * 3600;
export const MAX_IMAGE_CHARS = 255;

export const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
export const ENV_NAME_RULE = 'names are upper-case letters, digits and _ and do not start with a digit ([A-Z_][A-Z0-9_]*, at most 128)';
export const ENV_VALUE_RULE = 'values are one line without NUL (no \\n, \\r or \\0)';
export const IMAGE_RULE = 'must be a container image reference such as "python:3.12-slim" (lower-case name, optional :tag and @digest)';
export const REGISTRY_RULE =
  'the registry must be a DNS name (not localhost or an IP address): docker pulls it from the host’s own network';
export const ARGUMENT_RULE = 'arguments cannot hold NUL';

// docker/distribution's reference grammar (reference/regexp.go), anchored.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE = new RegExp(`^${NAME}(?::${TAG})?(?:@${DIGEST})?$`);

export function isImageReference(image: string): boolean {
  return image.length >= 1 && image.length <= MAX_IMAGE_CHARS && IMAGE.test(image);
}

/**
 * The registry an image comes from, as docker splits it: the first path component when it holds a
 * "." or ":", is "localhost", or has upper case; null for Docker Hub.
 */
export function registryHostOf(image: string): string | null {
  const slash = image.indexOf('/');
  if (slash === -1) return null;
  const first = image.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost' && first === first.toLowerCase()) return null;
  return first.startsWith('[') ? first.slice(0, first.indexOf(']') + 1) : first.replace(/:\d+$/, '');
}

/**
 * The docker daemon pulls from the host's network, so a registry named by an address (127.1,
 * 2130706433 and 0x7f000001 included: resolvers read those as IPv4), or by localhost or a bare
 * single-label name (the host's search domain), would let a job probe the host's own and private
 * services. Registries are named by DNS names with an alphabetic top-level label.
 */
export function isPublicRegistryName(image: string): boolean {
  const host = registryHostOf(image);
  if (host === null) return true;
  const labels = host.toLowerCase().split('.');
  const top = labels.at(-1) ?? '';
  return labels.length >= 2 && /^[a-z]/.test(top) && top !== 'localhost' && !host.startsWith('[');
}

/**
 * One line, no NUL, and well-formed Unicode: docker rejects an env file that is not UTF-8, and a
 * lone surrogate would not survive the trip to UTF-8 (it becomes U+FFFD).
 */
export function isEnvFileValue(value: string): boolean {
  return !/[\n\r\0]/.test(value) && !LONE_SURROGATE.test(value);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isArgument = (arg: string) => !arg.includes('\0');

/** The three fields of a job that reach the host, as both sides validate them. */
export const jobImageSchema = z.string().refine(isImageReference, IMAGE_RULE).refine(isPublicRegistryName, REGISTRY_RULE);
export const jobCommandSchema = z.array(z.string().max(MAX_VALUE_CHARS).refine(isArgument, ARGUMENT_RULE)).max(MAX_COMMAND_ARGS);
export const jobEnvSchema = z
  .record(z.string().regex(ENV_NAME, ENV_NAME_RULE), z.string().max(MAX_VALUE_CHARS).refine(isEnvFileValue, ENV_VALUE_RULE))
  .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, `at most ${MAX_ENV_VARS} variables`);
