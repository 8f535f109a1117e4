import { REST } from '@discordjs/rest';
import type { Config } from '../../workers/config.ts';

// The Discord REST client. DISCORD_API_ROOT may carry the version (`…/api/v10`, as in
// .dev.vars.example) or not (`…/api`); tests point it at a local stand-in server.

export function splitApiRoot(root: string): { api: string; version: string } {
  const trimmed = root.replace(/\/+$/, '');
  const match = /^(.*)\/v([0-9]+)$/.exec(trimmed);
  return match ? { api: match[1]!, version: match[2]! } : { api: trimmed, version: '10' };
}

/** A client per use: Workers may not keep timers between requests, so no sweepers either. */
export function discordRest(config: Config): REST {
  const { api, version } = splitApiRoot(config.DISCORD_API_ROOT);
  const rest = new REST({
    api,
    version,
    handlerSweepInterval: 0,
    hashSweepInterval: 0,
    makeRequest: (url, init) => fetch(url, init as RequestInit) as never,
  });
  if (config.DISCORD_BOT_TOKEN) rest.setToken(config.DISCORD_BOT_TOKEN);
  return rest;
}
