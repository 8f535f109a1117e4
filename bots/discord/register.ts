// `npm run discord:register` (and `npm run deploy`, after the deploy): puts the slash-command
// definitions (bots/discord/commands.ts, the same module the router uses) into Discord with
// @discordjs/rest, the client the Worker itself uses (discord.js is not needed). Globally by
// default; with DISCORD_GUILD_ID set, into that guild only (instant, for development).
//
//   DISCORD_APPLICATION_ID=… DISCORD_BOT_TOKEN=… npm run discord:register
import { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { discordCommandDefinitions } from './commands.ts';
import { splitApiRoot } from './rest.ts';

const appId = process.env.DISCORD_APPLICATION_ID;
const token = process.env.DISCORD_BOT_TOKEN;
const guildId = process.env.DISCORD_GUILD_ID;
if (!appId || !token) {
  console.error('Set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (and optionally DISCORD_GUILD_ID, DISCORD_API_ROOT).');
  process.exit(2);
}
const { api, version } = splitApiRoot(process.env.DISCORD_API_ROOT ?? 'https://discord.com/api/v10');
const rest = new REST({ api, version }).setToken(token);
const body = discordCommandDefinitions();
const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
const result = (await rest.put(route, { body })) as { name: string }[];
console.log(
  `Registered ${result.length} commands ${guildId ? `in guild ${guildId}` : 'globally'}: ${result.map((c) => `/${c.name}`).join(' ')}`,
);
