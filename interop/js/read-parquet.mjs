// Reads what `faultline export` wrote with DuckDB (@duckdb/node-api), an engine that shares no code
// with Faultline, and prints as JSON: the rows and PAGEFAULT rows per kernel and backend (from the
// Hive-style directory names) and per trace.
//
//   node interop/js/read-parquet.mjs EXPORT_DIR
import { DuckDBInstance } from '@duckdb/node-api';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node read-parquet.mjs EXPORT_DIR');
  process.exit(2);
}
const plain = (v) => (typeof v === 'bigint' ? Number(v) : v);
try {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const glob = `${dir.replace(/'/g, "''")}/**/*.parquet`;
  const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjects()
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
  const from = `FROM read_parquet('${glob}', hive_partitioning = true)`;
  console.log(JSON.stringify({
    partitions: await rows(`SELECT kernel, backend, count(*) AS rows, count(*) FILTER (WHERE kind = 'PAGEFAULT') AS faults ${from} GROUP BY ALL ORDER BY ALL`),
    traces: await rows(`SELECT trace, count(*) AS rows, count(*) FILTER (WHERE kind = 'PAGEFAULT') AS faults ${from} GROUP BY ALL ORDER BY ALL`),
  }));
} catch (e) {
  console.error(`read-parquet: cannot read ${dir}: ${String(e.message).split('\n')[0]}`);
  process.exit(1);
}
