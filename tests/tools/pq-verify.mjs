// pq-verify.mjs — read Parquet files back with two independent readers and compare them,
// value by value, with what was written (the Parquet writer's property test).
//
//   node tests/tools/pq-verify.mjs DIR SEED [SEED...]
//
// For each seed, DIR/SEED.parquet is read by DuckDB (@duckdb/node-api) and by parquet-wasm
// (Apache arrow-rs compiled to WebAssembly, its Arrow output read with apache-arrow), and
// each value is turned into the canonical text tests/tools/pq_proptest.c wrote into
// DIR/SEED.expect.json.  The column types each reader reports are checked against the
// schema too.  Prints one line per seed and, for a mismatch, the seed, reader, row, column,
// expected and actual value; exit status 1 when anything differs or a reader fails.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DuckDBInstance } from '@duckdb/node-api';
import * as pw from 'parquet-wasm/esm';
import { tableFromIPC, Type } from 'apache-arrow';

const require = createRequire(import.meta.url);
pw.initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });

const [dir, ...seeds] = process.argv.slice(2);
if (!dir || seeds.length === 0) {
	console.error('usage: pq-verify.mjs DIR SEED [SEED...]');
	process.exit(2);
}

function bytesText(b) {
	return `${b.length}:${createHash('sha256').update(b).digest('hex')}`;
}

function doubleText(d) {
	if (Number.isNaN(d)) return 'NaN';
	const dv = new DataView(new ArrayBuffer(8));
	dv.setFloat64(0, d, true);
	return dv.getBigUint64(0, true).toString(16).padStart(16, '0');
}

function hex(b) {
	return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

// DuckDB's type name for each kind
function duckType(c) {
	switch (c.kind) {
	case 'int16': return ['SMALLINT'];
	case 'int32': return ['INTEGER'];
	case 'int64': return ['BIGINT'];
	case 'float': return ['FLOAT'];
	case 'double': return ['DOUBLE'];
	case 'bool': return ['BOOLEAN'];
	case 'string': return ['VARCHAR'];
	case 'bytea': return ['BLOB'];
	case 'json': return ['VARCHAR', 'JSON'];
	case 'dec32': case 'dec64': case 'decflba': return [`DECIMAL(${c.precision},${c.scale})`];
	case 'date': return ['DATE'];
	case 'time': return ['TIME'];
	case 'ts': return ['TIMESTAMP'];
	case 'tstz': return ['TIMESTAMP WITH TIME ZONE'];
	case 'uuid': return ['UUID'];
	}
	return ['?'];
}

function duckText(c, v) {
	if (v === null || v === undefined) return null;
	switch (c.kind) {
	case 'int16': case 'int32': case 'int64': return String(v);
	case 'float': case 'double': return doubleText(v);
	case 'bool': return v ? 'true' : 'false';
	case 'string': case 'json': return bytesText(Buffer.from(String(v), 'utf8'));
	case 'bytea': return bytesText(v.bytes);
	case 'dec32': case 'dec64': case 'decflba': return String(v.value);
	case 'date': return String(v.days);
	case 'time': case 'ts': case 'tstz': return String(v.micros);
	case 'uuid': return v.toString().replaceAll('-', '');
	}
	return `?${v}`;
}

// parquet-wasm: Arrow type ids that the kinds must come back as
function arrowOk(c, t) {
	switch (c.kind) {
	case 'int16': return t.typeId === Type.Int && t.bitWidth === 16;
	case 'int32': return t.typeId === Type.Int && t.bitWidth === 32;
	case 'int64': return t.typeId === Type.Int && t.bitWidth === 64;
	case 'float': return t.typeId === Type.Float && t.precision === 1;
	case 'double': return t.typeId === Type.Float && t.precision === 2;
	case 'bool': return t.typeId === Type.Bool;
	case 'string': case 'json': return t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
	case 'bytea': return t.typeId === Type.Binary || t.typeId === Type.LargeBinary;
	case 'dec32': case 'dec64': case 'decflba':
		return t.typeId === Type.Decimal && t.precision === c.precision && t.scale === c.scale;
	case 'date': return t.typeId === Type.Date;
	case 'time': return t.typeId === Type.Time;
	case 'ts': return t.typeId === Type.Timestamp && !t.timezone;
	case 'tstz': return t.typeId === Type.Timestamp && !!t.timezone;
	case 'uuid': return t.typeId === Type.FixedSizeBinary && t.byteWidth === 16;
	}
	return false;
}

// value i of one Arrow chunk, from its buffers (exact: no conversion to JS numbers for
// 64-bit times, decimals read as 128-bit two's complement)
function arrowText(c, d, i) {
	if (!d.getValid(i)) return null;
	const j = d.offset + i;
	switch (d.type.typeId) {
	case Type.Int: return String(d.values[j]);
	case Type.Float: return doubleText(d.values[j]);
	case Type.Bool: return ((d.values[j >> 3] >> (j & 7)) & 1) ? 'true' : 'false';
	case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
		return bytesText(d.values.subarray(Number(d.valueOffsets[j]), Number(d.valueOffsets[j + 1])));
	case Type.Decimal: {
		let v = 0n;
		for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(d.values[j * 4 + k]);
		if (v >= 1n << 127n) v -= 1n << 128n;
		return String(v);
	}
	case Type.Date: return String(d.values[j]);
	case Type.Time: case Type.Timestamp: return String(d.values[j]);
	case Type.FixedSizeBinary: return hex(d.values.subarray(j * 16, j * 16 + 16));
	}
	return `?type${d.type.typeId}`;
}

let failed = 0;
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();

for (const seed of seeds) {
	const path = `${dir}/${seed}.parquet`;
	let exp;
	try {
		exp = JSON.parse(readFileSync(`${dir}/${seed}.expect.json`, 'utf8'));
	} catch (e) {
		failed++;
		console.log(`FAIL - seed ${seed}: no expectations (did the writer crash?): ${e.message}`);
		continue;
	}
	const cols = exp.columns;
	const problems = [];
	const report = (reader, row, col, want, got) => {
		if (problems.length < 5)
			problems.push(`${reader}: row ${row} column ${col}: expected ${want}, got ${got}`);
	};

	// DuckDB
	try {
		const r = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
		const types = r.columnTypes().map(String);
		const names = r.columnNames();
		cols.forEach((c, k) => {
			if (names[k] !== c.name) report('duckdb', '-', k, `name ${c.name}`, names[k]);
			if (!duckType(c).includes(types[k])) report('duckdb', '-', c.name, duckType(c)[0], types[k]);
		});
		const rows = r.getRows();
		if (rows.length !== exp.rows.length) report('duckdb', '-', '-', `${exp.rows.length} rows`, rows.length);
		for (let i = 0; i < Math.min(rows.length, exp.rows.length); i++)
			cols.forEach((c, k) => {
				const got = duckText(c, rows[i][k]);
				if (got !== exp.rows[i][k]) report('duckdb', i, c.name, exp.rows[i][k], got);
			});
	} catch (e) {
		report('duckdb', '-', '-', 'a readable file', e.message);
	}

	// parquet-wasm (arrow-rs)
	try {
		const t = tableFromIPC(pw.readParquet(new Uint8Array(readFileSync(path))).intoIPCStream());
		if (t.numRows !== exp.rows.length) report('parquet-wasm', '-', '-', `${exp.rows.length} rows`, t.numRows);
		cols.forEach((c, k) => {
			const f = t.schema.fields[k];
			if (!f || f.name !== c.name) { report('parquet-wasm', '-', k, `name ${c.name}`, f?.name); return; }
			if (!arrowOk(c, f.type)) report('parquet-wasm', '-', c.name, c.kind, String(f.type));
			let row = 0;
			for (const d of t.getChildAt(k).data)
				for (let i = 0; i < d.length; i++, row++) {
					const got = arrowText(c, d, i);
					if (row < exp.rows.length && got !== exp.rows[row][k])
						report('parquet-wasm', row, c.name, exp.rows[row][k], got);
				}
		});
	} catch (e) {
		report('parquet-wasm', '-', '-', 'a readable file', e.message);
	}

	const what = `${cols.length} columns (${cols.map((c) => c.kind).join(' ')}), ${exp.rows.length} rows, ` +
		`codec ${exp.codec}, dictionary ${exp.dictionary ? 'on' : 'off'}, row groups ${exp.rg_rows} rows/${exp.rg_bytes} B`;
	if (problems.length === 0) {
		console.log(`ok   - seed ${seed}: ${what}`);
	} else {
		failed++;
		console.log(`FAIL - seed ${seed}: ${what}`);
		for (const p of problems) console.log(`       ${p}`);
	}
}
conn.closeSync();
console.log(`${seeds.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
