#!/usr/bin/python3
"""
backfill_check.py — what test_backfill.sh asserts about records against the tables.

  backfill_check.py setup CONNINFO [ROWS]
      creates the tables (integer, composite text + int, UUID and text keys, and a
      keyless one) in schema public with ROWS rows each (default 6000), analyzed.
  backfill_check.py writer CONNINFO SECONDS [BASE]
      a concurrent writer: inserts, updates (key changes too) and deletes on the keyed
      tables, inserts on the keyless one, until SECONDS pass; prints the transactions.
      New rows are numbered from BASE (default 0).
  backfill_check.py compare CONNINFO RECORDS...
      replays the stdout records (last write per key; keyless tables as a multiset of
      inserts and reads) and compares every table with SELECT *; prints one line per
      table: "<table> missing=N extra=N extra_not_written=N" (extra_not_written: extra
      rows of the keyless table that the writer did not write, which must be 0), then
      "reread=N" (read rows of keyed tables whose key was read more than once) and
      "incremental=N/M" (read rows marked source.snapshot "incremental" / all).
"""
import collections
import json
import random
import sys
import time

import psycopg2

KEYS = {"public.k_int": ["id"], "public.k_comp": ["a", "b"], "public.k_uuid": ["id"],
        "public.k_text": ["id"]}
TABLES = ["public.k_int", "public.k_comp", "public.k_uuid", "public.k_text", "public.nokey",
          "public.rr"]


def setup(dsn, rows):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("""
        CREATE TABLE k_int (id int PRIMARY KEY, v text);
        CREATE TABLE k_comp (a text, b int, v text, PRIMARY KEY (a, b));
        CREATE TABLE k_uuid (id uuid PRIMARY KEY, v text);
        CREATE TABLE k_text (id text PRIMARY KEY, v text);
        CREATE TABLE nokey (v text, n int);
        INSERT INTO k_int SELECT g, 'v' || g FROM generate_series(1, %(n)s) g;
        INSERT INTO k_comp SELECT 'a' || (g %% 7), g, 'v' || g FROM generate_series(1, %(n)s) g;
        INSERT INTO k_uuid SELECT md5(g::text)::uuid, 'v' || g FROM generate_series(1, %(n)s) g;
        INSERT INTO k_text SELECT 'é' || g, 'v' || g FROM generate_series(1, %(n)s) g;
        INSERT INTO nokey SELECT 'n' || g, g FROM generate_series(1, %(n)s) g;
        ANALYZE""", {"n": rows})
    conn.commit()


def writer(dsn, seconds, base):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    rnd = random.Random(7 + base)
    end = time.time() + seconds
    n = base
    while time.time() < end:
        i = rnd.randrange(1, 6000)
        cur.execute("UPDATE k_int SET v = %s WHERE id = %s", ("u%d" % n, i))
        cur.execute("UPDATE k_int SET id = id + 100000 WHERE id = %s", (rnd.randrange(1, 6000),))
        cur.execute("DELETE FROM k_comp WHERE b = %s", (rnd.randrange(1, 6000),))
        cur.execute("INSERT INTO k_comp VALUES ('w', %s, %s)", (n, "w%d" % n))
        cur.execute("UPDATE k_uuid SET v = %s WHERE id = md5(%s)::uuid", ("u%d" % n, str(i)))
        cur.execute("UPDATE k_text SET id = id || 'x' WHERE id = %s", ("é%d" % rnd.randrange(1, 6000),))
        cur.execute("INSERT INTO nokey VALUES (%s, %s)", ("w%d" % n, n))
        conn.commit()
        n += 1
    print(n - base)


def compare(dsn, paths):
    state = {t: ({} if t in KEYS else []) for t in TABLES}
    reads = collections.Counter()
    incremental = nread = 0
    for path in paths:
        for line in open(path):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue        # a line cut by kill -9
            t = r["source"]["schema"] + "." + r["source"]["table"]
            if t not in state:
                continue
            key, st, op = KEYS.get(t), state[t], r["op"]
            if op == "r":
                nread += 1
                incremental += r["source"]["snapshot"] == "incremental"
                if key:
                    reads[(t, json.dumps([r["after"][c] for c in key]))] += 1
            if op == "t":
                st.clear()
            elif key and op == "d":
                st.pop(json.dumps([r["before"][c] for c in key]), None)
            elif key:
                st[json.dumps([r["after"][c] for c in key])] = r["after"]
            elif op in ("u", "d"):
                # keyless with replica identity FULL: the old row out (if the records
                # had it: a chunk may not have read it yet), the new one in
                if r["before"] in st:
                    st.remove(r["before"])
                if op == "u":
                    st.append(r["after"])
            elif op in ("c", "r"):
                st.append(r["after"])
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    for t in TABLES:
        cur.execute("SELECT to_regclass(%s)", (t,))
        if cur.fetchone()[0] is None:
            continue
        cur.execute("SELECT row_to_json(x)::text FROM %s x" % t)
        want = collections.Counter(json.dumps(json.loads(row[0]), sort_keys=True)
                                   for row in cur.fetchall())
        rows = state[t].values() if isinstance(state[t], dict) else state[t]
        have = collections.Counter(json.dumps(x, sort_keys=True) for x in rows)
        missing, extra = want - have, have - want
        not_written = sum(n for row, n in extra.items() if not json.loads(row)["v"].startswith("w"))
        print("%s missing=%d extra=%d extra_not_written=%d%s" % (
            t, sum(missing.values()), sum(extra.values()), not_written,
            (" e.g. %s" % list((missing or extra).elements())[:2]) if missing or extra else ""))
    print("reread=%d" % sum(n - 1 for n in reads.values() if n > 1))
    print("incremental=%d/%d" % (incremental, nread))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 6000)
    elif sys.argv[1] == "writer":
        writer(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        compare(sys.argv[2], sys.argv[3:])
