// Reads a Faultline trace/1 file with apache-arrow (JavaScript) and prints what it found as JSON:
// the schema metadata, the column names and types, the row count, counts by kind and ioctl, and
// the first rows. Traces are ZSTD-compressed by default: apache-arrow leaves codecs to the caller,
// so ZSTD is registered here with fzstd (a JavaScript decompressor); uncompressed traces need none.
//
//   node interop/js/read-trace.mjs trace.arrow [ROWS]
import { readFileSync } from 'node:fs';
import { tableFromIPC, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress } from 'fzstd';

// each buffer decoded into an ArrayBuffer of its own, so that 8-byte columns start 8-byte aligned
compressionRegistry.set(CompressionType.ZSTD, { decode: (bytes) => new Uint8Array(decompress(bytes)) });

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node read-trace.mjs TRACE.arrow [ROWS]');
  process.exit(2);
}
let table;
try {
  table = tableFromIPC(new Uint8Array(readFileSync(file))); // a copy at offset 0: Node may pool small files' bytes
} catch (e) {
  console.error(`read-trace: cannot read ${file}: ${e.message.split('\n')[0]}`);
  process.exit(1);
}
const plain = (v) => (typeof v === 'bigint' ? v.toString() : v);
const countBy = (name) => {
  const counts = {};
  for (const v of table.getChild(name)) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
};
const firstRows = [];
for (let i = 0; i < Math.min(Number(rowsArg ?? 3), table.numRows); i++) {
  const row = {};
  for (const f of table.schema.fields) row[f.name] = plain(table.getChild(f.name).get(i));
  firstRows.push(row);
}
console.log(JSON.stringify({
  metadata: Object.fromEntries(table.schema.metadata),
  columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
  rows: table.numRows,
  batches: table.batches.length,
  kinds: countBy('kind'),
  ioctls: countBy('ioctl'),
  first: firstRows,
}));
