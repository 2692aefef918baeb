"""Schemathesis hooks for scripts/quality.sh: the bulk uploads' CSV and NDJSON bodies generated as
the files they describe, and the NDJSON serializer Schemathesis lacks."""

import json

import schemathesis

NDJSON = "application/x-ndjson"
ITEM_SCHEMA = "x-itemSchema"  # src/api/document.rs: the schema of each line of an NDJSON body


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    # The document declares a bulk upload's CSV and NDJSON bodies as files (`type: string`,
    # `format: binary`), as they go on the wire. Arbitrary bytes would mostly test the UTF-8 check:
    # generate an NDJSON body from its line schema (`x-itemSchema`) and a CSV body as text.
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            ndjson = content.get(NDJSON)
            if ndjson and ITEM_SCHEMA in ndjson:
                ndjson["schema"] = ndjson[ITEM_SCHEMA]
            csv = content.get("text/csv", {}).get("schema")
            if csv and csv.get("format") == "binary":
                del csv["format"]


@schemathesis.serializer(NDJSON)
def ndjson(ctx, value):
    # The body generated from the line schema is one row: send it as one line.
    if isinstance(value, bytes):
        return value
    return (json.dumps(value, ensure_ascii=False) + "\n").encode()
