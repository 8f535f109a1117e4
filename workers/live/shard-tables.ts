// Every table of a NodeShard Durable Object's own SQLite, in one place: the live registry and
// nonces (node-shard.do.ts), the jobs its nodes hold (workers/jobs/shard-jobs.ts) and which nodes
// run hot (workers/alerts/gpu-heat.ts). The shard creates them before any of those parts starts;
// a new table of the shard goes here. IF NOT EXISTS: this runs at every start of the object.

export const SHARD_TABLES_SQL = `
  CREATE TABLE IF NOT EXISTS live_nodes (
    node_id TEXT PRIMARY KEY, status TEXT NOT NULL, last_seen_at INTEGER NOT NULL,
    online_ms INTEGER NOT NULL, gpus TEXT NOT NULL DEFAULT '[]', probes TEXT NOT NULL DEFAULT '[]',
    dirty INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS nonces (
    node_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (node_id, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at);
  CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS suspended_nodes (node_id TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS pending_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL, kind TEXT NOT NULL,
    at INTEGER NOT NULL, detail TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS node_jobs (
    node_id TEXT NOT NULL, job_id TEXT NOT NULL, state TEXT NOT NULL, payload TEXT NOT NULL,
    offered_at INTEGER NOT NULL, PRIMARY KEY (node_id, job_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS gpu_heat (node_id TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID;
`;

export function createShardTables(sql: SqlStorage): void {
  sql.exec(SHARD_TABLES_SQL);
}
