// duckdb-query.mjs — run SQL in an in-memory DuckDB and print the result, so the
// integration tests can read Parquet files back with an independent reader.
//
//   node tests/tools/duckdb-query.mjs [--json] [--header] SQL
//
// Default output: one line per row, values separated by "|", NULL as "NULL"; lists
// and structs as JSON.  --json prints one JSON array per row instead.  --header
// prints the column names first.  Exit status 1 (message on stderr) when DuckDB
// reports an error, so a test cannot mistake a failed query for an empty result.
//
// @duckdb/node-api is installed by tests/tools/deps.sh into tests/tools/node_modules.
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let json = false, header = false;
while (args.length > 0 && args[0].startsWith('--')) {
	const a = args.shift();
	if (a === '--json') json = true;
	else if (a === '--header') header = true;
	else { console.error(`duckdb-query: unknown option ${a}`); process.exit(2); }
}
if (args.length !== 1) {
	console.error('usage: duckdb-query.mjs [--json] [--header] SQL');
	process.exit(2);
}

function text(v) {
	if (v === null || v === undefined) return 'NULL';
	if (typeof v === 'object') return JSON.stringify(v);
	return String(v);
}

try {
	const instance = await DuckDBInstance.create(':memory:');
	const conn = await instance.connect();
	const reader = await conn.runAndReadAll(args[0]);
	const out = [];
	if (header) out.push(reader.columnNames().join('|'));
	for (const row of reader.getRowsJson()) out.push(json ? JSON.stringify(row) : row.map(text).join('|'));
	if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
	conn.closeSync();
} catch (e) {
	console.error(`duckdb-query: ${e.message}`);
	process.exit(1);
}
