import * as z from 'zod';

// The parts of a Discord interaction the router reads, validated after the signature check.
// Unknown fields pass through untouched (Discord adds fields freely).

const user = z.object({
  id: z.string().regex(/^[0-9]{5,25}$/),
  username: z.string().max(64).default(''),
  global_name: z.string().max(64).nullish(),
});

type RawOption = { name: string; type: number; value?: string | number | boolean; focused?: boolean; options?: RawOption[] };
const option: z.ZodType<RawOption> = z.lazy(() =>
  z.object({
    name: z.string().max(64),
    type: z.number().int(),
    value: z.union([z.string().max(6000), z.number(), z.boolean()]).optional(),
    focused: z.boolean().optional(),
    options: z.array(option).max(25).optional(),
  }),
);

export const interactionSchema = z.object({
  id: z.string().regex(/^[0-9]{5,25}$/, 'must be a snowflake'),
  application_id: z.string().max(25),
  type: z.number().int(),
  token: z.string().max(1000).default(''),
  guild_id: z.string().max(25).optional(),
  channel_id: z.string().max(25).optional(),
  member: z.object({ user }).optional(),
  user: user.optional(),
  data: z
    .object({
      name: z.string().max(64).optional(),
      options: z.array(option).max(25).optional(),
      custom_id: z.string().max(100).optional(),
    })
    .optional(),
});
export type Interaction = z.infer<typeof interactionSchema>;
export type InteractionOption = RawOption;

/** `/proposal show proposal:3` → path ['proposal', 'show'] and { proposal: '3' }; focused: the option being typed. */
export function flattenOptions(name: string, options: readonly RawOption[] = []) {
  const path = [name];
  let list = options;
  // Sub-command (1) and sub-command group (2) options nest the real ones.
  while (list.length === 1 && (list[0]!.type === 1 || list[0]!.type === 2)) {
    path.push(list[0]!.name);
    list = list[0]!.options ?? [];
  }
  const values: Record<string, string | number | boolean | undefined> = {};
  let focused: { name: string; value: string } | undefined;
  for (const o of list) {
    values[o.name] = o.value;
    if (o.focused) focused = { name: o.name, value: String(o.value ?? '') };
  }
  return { path, values, focused };
}
