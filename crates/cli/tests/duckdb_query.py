"""Runs SQL in DuckDB for crates/cli/tests/export_duckdb.rs and prints the results as JSON.

stdin: a JSON list of {"id": ..., "sql": ...}. stdout: one JSON object {id: [[cell, ...], ...]}.
Cells: BLOBs become lower-case hex, except in a column named `sha256_of_*`, where the bytes are
replaced by the hex SHA-256 of them (NULL stays null); MAPs become objects; timestamps RFC 3339
(UTC, 'Z'); everything else as DuckDB returns it. The first line of stderr names the DuckDB
version.
"""
import datetime
import hashlib
import json
import sys

import duckdb


def cell(name, v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        v = bytes(v)
        if name.startswith("sha256_of_"):
            return hashlib.sha256(v).hexdigest()
        return v.hex()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat() + "Z"
    if isinstance(v, dict):
        if set(v.keys()) == {"key", "value"} and isinstance(v["key"], list):
            return dict(zip(v["key"], v["value"]))
        return {str(k): x for k, x in v.items()}
    return v


def main():
    print("duckdb", duckdb.__version__, file=sys.stderr)
    queries = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    for q in queries:
        cur = con.execute(q["sql"])
        names = [d[0] for d in cur.description]
        out[q["id"]] = [[cell(n, v) for n, v in zip(names, row)] for row in cur.fetchall()]
    json.dump(out, sys.stdout)


main()
