// The weights that turn a candidate's estimated latency, price, reputation, stake and uptime into
// one score. They are configuration: parse them once at the boundary with RoutingWeightsSchema.

import * as z from 'zod';

const weight = z.number().finite().min(0).max(1000);

export const RoutingWeightsSchema = z
  .object({
    latency: weight,
    price: weight,
    reputation: weight,
    stake: weight,
    uptime: weight,
    /** Latency at which the latency score is one half: score = ref / (ref + estRttMs). */
    latencyRefMs: z.number().finite().positive().max(10_000),
    /** Stake (token base units) at which the stake score is one half. */
    stakeHalfBaseUnits: z
      .union([z.bigint(), z.string().regex(/^\d{1,30}$/), z.number().int().nonnegative()])
      .transform((v) => BigInt(v))
      .refine((v) => v > 0n, 'must be positive'),
  })
  .refine((w) => w.latency + w.price + w.reputation + w.stake + w.uptime > 0, {
    message: 'at least one weight must be positive',
  });

export type RoutingWeights = z.output<typeof RoutingWeightsSchema>;

/**
 * Latency leads: a renter feels every millisecond of an interactive job, and the network's
 * value over a cloud region is being close. Price is next; reputation and uptime break the
 * remaining ties toward nodes that finish jobs; stake only nudges (it is bought, not earned).
 * With these numbers 10 ms at ~20 ms RTT is worth about a 20% price difference.
 */
export const DEFAULT_ROUTING_WEIGHTS: RoutingWeights = {
  latency: 0.55,
  price: 0.25,
  reputation: 0.1,
  uptime: 0.07,
  stake: 0.03,
  latencyRefMs: 30,
  stakeHalfBaseUnits: 1_000_000_000n,
};
