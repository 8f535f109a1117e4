// The catalogue of GPU models the network knows, and the matcher that maps the ways people and
// nvidia-smi spell a model ("4090", "rtx4090", "NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB")
// onto it.

export interface CanonicalGpu {
  /** Catalogue key, stored as `node_gpus.canonical_model`: "RTX 4090", "A100 80GB". */
  readonly name: string;
  /** Nominal memory of the model, in MiB. */
  readonly vramMb: number;
  /** Performance tier, 1 (entry inference) .. 5 (frontier training). */
  readonly tier: 1 | 2 | 3 | 4 | 5;
  /** Relative weight of one GPU of this model in capacity rewards (RTX 4090 = 1). */
  readonly rewardWeight: number;
  /** The model code the matcher looks for, lower case: "4090", "a100", "mi300x". */
  readonly code: string;
  /** Extra tokens that must be present, e.g. ["ti"] for the RTX 3090 Ti. */
  readonly variant: readonly string[];
}

const GIB = 1024;

function gpu(
  name: string,
  code: string,
  vramGb: number,
  tier: CanonicalGpu['tier'],
  rewardWeight: number,
  variant: readonly string[] = [],
): CanonicalGpu {
  return { name, code, vramMb: vramGb * GIB, tier, rewardWeight, variant };
}

export const GPU_CATALOG: readonly CanonicalGpu[] = [
  gpu('T4', 't4', 16, 1, 0.25),
  gpu('A10', 'a10', 24, 2, 0.5),
  gpu('L4', 'l4', 24, 2, 0.5),
  gpu('RTX 3090', '3090', 24, 2, 0.6),
  gpu('RTX 3090 Ti', '3090', 24, 2, 0.65, ['ti']),
  gpu('RTX 4090', '4090', 24, 3, 1),
  gpu('RTX 5090', '5090', 32, 3, 1.4),
  gpu('RTX A6000', 'a6000', 48, 3, 0.9),
  gpu('L40S', 'l40s', 48, 3, 1.3),
  gpu('A100 40GB', 'a100', 40, 4, 2),
  gpu('A100 80GB', 'a100', 80, 4, 2.5),
  gpu('H100 80GB', 'h100', 80, 5, 4),
  gpu('H200', 'h200', 141, 5, 5),
  gpu('B200', 'b200', 192, 5, 8),
  gpu('MI300X', 'mi300x', 192, 5, 4.5),
];

/**
 * Words that say nothing about which model it is: vendor and brand names, form factors and
 * memory technologies. "H100 SXM", "H100 PCIe" and "NVIDIA H100 80GB HBM3" are one model here.
 */
const NOISE = new Set([
  'nvidia',
  'amd',
  'geforce',
  'radeon',
  'instinct',
  'tesla',
  'quadro',
  'rtx',
  'gpu',
  'graphics',
  'card',
  'accelerator',
  'tensor',
  'core',
  'sxm',
  'sxm2',
  'sxm4',
  'sxm5',
  'pcie',
  'nvl',
  'oam',
  'hbm2',
  'hbm2e',
  'hbm3',
  'hbm3e',
  'gddr6',
  'gddr6x',
  'gddr7',
]);

const MEMORY_TOKEN = /^(\d+)gb?$/;

/** Lower-cases, splits on anything not alphanumeric, and unglues "rtx4090", "3090ti", "80 gb". */
function tokenize(input: string): string[] {
  const out: string[] = [];
  const chunks = input.toLowerCase().split(/[^a-z0-9]+/);
  for (const chunk of chunks) {
    if (chunk === '') continue;
    const glued = /^(rtx|gtx|geforce|tesla|quadro)(.+)$/.exec(chunk);
    const rest = glued?.[2] ?? chunk;
    if (glued?.[1] !== undefined) out.push(glued[1]);
    const suffixed = /^(\d{4})(ti|super)$/.exec(rest);
    if (suffixed?.[1] !== undefined && suffixed[2] !== undefined) {
      out.push(suffixed[1], suffixed[2]);
    } else if ((rest === 'gb' || rest === 'g') && out.length > 0 && /^\d+$/.test(out.at(-1) ?? '')) {
      out.push(`${out.pop()}gb`);
    } else {
      out.push(rest);
    }
  }
  return out;
}

/**
 * Every catalogue model the input can mean, in catalogue order. The rule is strict so that a
 * listing never lands on the wrong card: after vendor, form-factor and memory-technology words are
 * dropped, the remaining words must be exactly the model's code plus its variant words, and a
 * stated memory size ("80GB") must equal the model's. So "3090" is not the "RTX 3090 Ti",
 * "RTX 4090 D" and "L40" match nothing, and a size-less "a100" matches both A100 models.
 */
export function matchingModels(input: string): CanonicalGpu[] {
  const memoryGb: number[] = [];
  const words: string[] = [];
  for (const token of tokenize(input)) {
    if (NOISE.has(token)) continue;
    const memory = MEMORY_TOKEN.exec(token);
    if (memory?.[1] !== undefined) memoryGb.push(Number(memory[1]));
    else words.push(token);
  }
  if (words.length === 0) return [];
  return GPU_CATALOG.filter((model) => {
    if (words.length !== 1 + model.variant.length || words[0] !== model.code) return false;
    if (!model.variant.every((v, i) => words[i + 1] === v)) return false;
    return memoryGb.every((gb) => gb * GIB === model.vramMb);
  });
}

/** The one catalogue model the input names, or null when it names none or is ambiguous ("a100"). */
export function canonicalGpuModel(input: string): CanonicalGpu | null {
  const matches = matchingModels(input);
  return matches.length === 1 ? (matches[0] ?? null) : null;
}
