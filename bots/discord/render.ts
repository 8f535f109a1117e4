import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import type { Reply, ReplyButton, Tone } from '../core/reply.ts';

// A core Reply as a Discord message: one embed (title, paragraphs, fields, footer), buttons in
// action rows of five, the ephemeral flag. Texts are cut to Discord's limits rather than refused.

const COLORS: Record<Tone, number> = { info: 0x3b82f6, success: 0x16a34a, warning: 0xd97706, error: 0xdc2626 };
const STYLES = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
} as const;

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export interface DiscordMessage extends RESTPostAPIChannelMessageJSONBody {
  flags?: number;
}

export function renderDiscord(reply: Reply): DiscordMessage {
  const embed: APIEmbed = {
    ...(reply.title ? { title: cut(reply.title, 256) } : {}),
    description: cut(reply.blocks.join('\n\n') || '\u200b', 4096),
    color: COLORS[reply.tone ?? 'info'],
    ...(reply.fields?.length
      ? {
          fields: reply.fields
            .slice(0, 25)
            .map((f) => ({ name: cut(f.name, 256), value: cut(f.value || '—', 1024), inline: f.inline ?? false })),
        }
      : {}),
    ...(reply.footer ? { footer: { text: cut(reply.footer, 2048) } } : {}),
    ...(reply.image?.url ? { image: { url: reply.image.url } } : {}),
  };
  const message: DiscordMessage = {
    embeds: [embed],
    components: reply.buttons?.length ? rows(reply.buttons) : [],
    // Nothing we render may ping anyone, whatever a title contains.
    allowed_mentions: { parse: [] },
  };
  if (reply.ephemeral) message.flags = MessageFlags.Ephemeral;
  return message;
}

function rows(buttons: readonly ReplyButton[]): APIActionRowComponent<APIButtonComponent>[] {
  const out: APIActionRowComponent<APIButtonComponent>[] = [];
  for (let i = 0; i < buttons.length && out.length < 5; i += 5) {
    out.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + 5).map(button) });
  }
  return out;
}

function button(b: ReplyButton): APIButtonComponent {
  if (b.kind === 'link') return { type: ComponentType.Button, style: ButtonStyle.Link, label: cut(b.label, 80), url: b.url };
  return {
    type: ComponentType.Button,
    style: STYLES[b.style ?? 'secondary'],
    label: cut(b.label, 80),
    custom_id: b.action,
    disabled: b.disabled ?? false,
  };
}
