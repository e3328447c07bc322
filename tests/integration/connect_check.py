#!/usr/bin/env python3
"""Read Kafka records as Kafka Connect's JsonConverter (schemas.enable=true) would.

Input: kcat -J lines on stdin.  Every non-null key and value must be an envelope
{"schema": ..., "payload": ...} whose payload converts under its schema the way
JsonConverter.toConnectData does: struct fields exactly those of the schema,
required fields non-null, integers within their width, bytes and Decimal as base64
(a Decimal's unscaled value is decoded with its "scale" parameter), arrays of their
items.  Prints one line per record: the converted value as JSON (Decimals as
strings of their exact value, bytes as hex), or "ERROR <where>: <why>" and exits 1.
"""
import base64
import binascii
import decimal
import json
import sys

INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


class Bad(Exception):
    pass


def convert(schema, value, where):
    if not isinstance(schema, dict) or "type" not in schema:
        raise Bad(f"{where}: no schema type")
    if value is None:
        if schema.get("optional") is not True:
            raise Bad(f"{where}: null in a required field")
        return None
    t = schema["type"]
    name = schema.get("name")
    if t == "struct":
        if not isinstance(value, dict):
            raise Bad(f"{where}: not an object")
        names = [f.get("field") for f in schema.get("fields", [])]
        extra = set(value) - set(names)
        if extra:
            raise Bad(f"{where}: fields not in the schema: {sorted(extra)}")
        out = {}
        for f in schema["fields"]:
            if "default" in f:
                # a default must itself be a value of the field's schema
                convert(f, f["default"], f"{where}.{f['field']} (default)")
            if f["field"] not in value:
                raise Bad(f"{where}.{f['field']}: missing")
            out[f["field"]] = convert(f, value[f["field"]], f"{where}.{f['field']}")
        return out
    if t == "array":
        if not isinstance(value, list):
            raise Bad(f"{where}: not an array")
        return [convert(schema.get("items"), v, f"{where}[]") for v in value]
    if t in INT_BITS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Bad(f"{where}: {value!r} is not an integer")
        bits = INT_BITS[t]
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            raise Bad(f"{where}: {value} does not fit {t}")
        return value
    if t in ("float32", "float64"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Bad(f"{where}: {value!r} is not a number")
        return value
    if t == "boolean":
        if not isinstance(value, bool):
            raise Bad(f"{where}: {value!r} is not a boolean")
        return value
    if t == "string":
        if not isinstance(value, str):
            raise Bad(f"{where}: {value!r} is not a string")
        return value
    if t == "bytes":
        if not isinstance(value, str):
            raise Bad(f"{where}: {value!r} is not base64 text")
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error as e:
            raise Bad(f"{where}: {value!r} is not base64: {e}")
        if name == "org.apache.kafka.connect.data.Decimal":
            params = schema.get("parameters") or {}
            if "scale" not in params:
                raise Bad(f"{where}: a Decimal without a scale parameter")
            unscaled = int.from_bytes(raw, "big", signed=True)
            d = decimal.Decimal(unscaled).scaleb(-int(params["scale"]))
            prec = params.get("connect.decimal.precision")
            if prec is not None and len(str(abs(unscaled))) > int(prec):
                raise Bad(f"{where}: {d} has more than {prec} digits")
            return str(d)
        return raw.hex()
    raise Bad(f"{where}: unknown type {t}")


def envelope(text, where):
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise Bad(f"{where}: not JSON: {e}")
    if not isinstance(doc, dict) or set(doc) != {"schema", "payload"}:
        raise Bad(f"{where}: not a {{schema, payload}} envelope")
    return convert(doc["schema"], doc["payload"], where)


def main():
    for n, line in enumerate(sys.stdin, 1):
        rec = json.loads(line)
        try:
            key = envelope(rec.get("key"), f"record {n} key")
            value = envelope(rec.get("payload"), f"record {n} value")
        except Bad as e:
            print(f"ERROR {e}")
            return 1
        print(json.dumps({"key": key, "value": value}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
