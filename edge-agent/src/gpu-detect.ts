// Real GPUs, from nvidia-smi. The parser is pure and strict: a line that is not exactly what we
// asked for is an error, never a guess.
import { execFile } from 'node:child_process';
import { AgentError } from './errors.ts';
import { describeInventory, type GpuInventoryEntry, type GpuMetric, type GpuSnapshot, type GpuSource } from './gpu-source.ts';

/** The one place the query's fields are chosen; the parser reads them in this order. */
export const NVIDIA_SMI_FIELDS = [
  'index',
  'name',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
] as const;

export const NVIDIA_SMI_ARGS: readonly string[] = [`--query-gpu=${NVIDIA_SMI_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** One parsed nvidia-smi line. */
export interface GpuReading {
  index: number;
  name: string;
  memTotalMb: number;
  memUsedMb: number;
  utilPct: number;
  tempC: number;
  powerW: number | null;
}

/** Values nvidia-smi prints when a board does not report power draw. */
const POWER_UNAVAILABLE = new Set(['[N/A]', '[Not Supported]']);

export function parseNvidiaSmiCsv(output: string): GpuReading[] {
  const lines = output.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) {
    throw new AgentError('nvidia_smi_malformed', 'nvidia-smi printed no GPUs');
  }
  const seen = new Set<number>();
  return lines.map((line, i) => {
    const reading = parseLine(line, i + 1);
    if (seen.has(reading.index)) {
      throw malformed(i + 1, line, `GPU index ${reading.index} appears twice`);
    }
    seen.add(reading.index);
    return reading;
  });
}

function parseLine(line: string, lineNo: number): GpuReading {
  const fields = line.split(',').map((f) => f.trim());
  if (fields.length !== NVIDIA_SMI_FIELDS.length) {
    throw malformed(lineNo, line, `expected ${NVIDIA_SMI_FIELDS.length} fields (${NVIDIA_SMI_FIELDS.join(', ')}), got ${fields.length}`);
  }
  const [index, name, memTotal, memUsed, util, temp, power] = fields as [string, string, string, string, string, string, string];
  const whole = (field: string, value: string, min: number, max: number): number => {
    if (!/^-?\d+$/.test(value)) throw malformed(lineNo, line, `${field} "${value}" is not a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw malformed(lineNo, line, `${field} ${n} is outside ${min}..${max}`);
    return n;
  };
  if (name === '' || name.startsWith('[')) throw malformed(lineNo, line, `name "${name}" is not a GPU model`);
  const reading: GpuReading = {
    index: whole('index', index, 0, 1023),
    name,
    memTotalMb: whole('memory.total', memTotal, 1, 4_194_304),
    memUsedMb: whole('memory.used', memUsed, 0, 4_194_304),
    utilPct: whole('utilization.gpu', util, 0, 100),
    tempC: whole('temperature.gpu', temp, -40, 150),
    powerW: parsePower(power, lineNo, line),
  };
  if (reading.memUsedMb > reading.memTotalMb) {
    throw malformed(lineNo, line, `memory.used ${reading.memUsedMb} exceeds memory.total ${reading.memTotalMb}`);
  }
  return reading;
}

function parsePower(value: string, lineNo: number, line: string): number | null {
  if (POWER_UNAVAILABLE.has(value)) return null;
  if (!/^\d+(\.\d+)?$/.test(value)) throw malformed(lineNo, line, `power.draw "${value}" is not a number of watts`);
  const watts = Number(value);
  if (watts > 5000) throw malformed(lineNo, line, `power.draw ${watts} W is not plausible`);
  return Math.round(watts * 100) / 100;
}

function malformed(lineNo: number, line: string, why: string): AgentError {
  return new AgentError('nvidia_smi_malformed', `nvidia-smi output line ${lineNo} is malformed: ${why}: ${JSON.stringify(line)}`);
}

/**
 * GPUs of one model become one registration entry, in index order. The registry lists each model
 * once; boards of one model can still report slightly different memory (ECC on one, off on
 * another), so the entry carries the smallest, which every board in it can honour.
 */
export function groupGpus(readings: GpuReading[]): GpuInventoryEntry[] {
  const groups = new Map<string, GpuInventoryEntry>();
  for (const r of [...readings].sort((a, b) => a.index - b.index)) {
    const group = groups.get(r.name);
    if (group) {
      group.count++;
      group.vramMb = Math.min(group.vramMb, r.memTotalMb);
    } else {
      groups.set(r.name, { model: r.name, vramMb: r.memTotalMb, count: 1 });
    }
  }
  return [...groups.values()];
}

export function toMetrics(readings: GpuReading[]): GpuMetric[] {
  return [...readings]
    .sort((a, b) => a.index - b.index)
    .map((r) => ({ index: r.index, utilPct: r.utilPct, memUsedMb: r.memUsedMb, tempC: r.tempC, powerW: r.powerW }));
}

export interface NvidiaSmiOptions {
  /** Executable to run; a test points this at a stand-in script. */
  path: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function runNvidiaSmi(options: NvidiaSmiOptions): Promise<GpuReading[]> {
  const { path, timeoutMs = 15_000, signal } = options;
  return new Promise((resolve, reject) => {
    execFile(path, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs, signal, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (e.code === 'ENOENT') {
          reject(
            new AgentError(
              'nvidia_smi_not_found',
              `nvidia-smi not found (${path}): is the NVIDIA driver installed? For development use --simulate-gpus`,
              { cause: err },
            ),
          );
          return;
        }
        if (e.name === 'AbortError') {
          reject(err);
          return;
        }
        const said = firstLine(stdout) || firstLine(stderr) || e.message;
        const how =
          typeof e.code === 'number' ? `exited with code ${e.code}` : e.killed ? 'timed out' : `failed (${String(e.code ?? e.message)})`;
        reject(new AgentError('nvidia_smi_failed', `nvidia-smi ${how}: ${said}`, { cause: err }));
        return;
      }
      try {
        resolve(parseNvidiaSmiCsv(stdout));
      } catch (parseErr) {
        reject(parseErr);
      }
    });
  });
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  );
}

export function createNvidiaSmiSource(path: string, timeoutMs?: number): GpuSource {
  return {
    simulated: false,
    describe: (s) => describeInventory(s.inventory),
    async read(signal): Promise<GpuSnapshot> {
      const readings = await runNvidiaSmi({ path, timeoutMs, signal });
      return { inventory: groupGpus(readings), metrics: toMetrics(readings) };
    },
  };
}
