"""Schemathesis hooks for scripts/quality.sh: writes the request bodies Schemathesis has no
serializer for."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The document's schema for an NDJSON upload is one row; send the generated value as one line.
    return (json.dumps(value, ensure_ascii=False) + "\n").encode()
