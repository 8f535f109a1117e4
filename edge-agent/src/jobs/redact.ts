// Secrets of a job (every env value) never leave the agent in a log chunk. Values shorter than 4
// characters are not redacted: "1" or "on" would blank ordinary output and protect nothing.

export function redactor(env: Record<string, string>): (text: string) => string {
  const secrets = [...new Set(Object.values(env))].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out;
  };
}
