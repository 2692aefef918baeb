#!/usr/bin/env python3
"""A read right after a single finding write: N times, record one finding, then read the full
ranking and a township results page at once, timing each read on one keep-alive connection over
loopback (an upper bound of the server's own time). Prints the distribution.

    scripts/load/read_after_write.py BASE TOKEN SCHEME SUBJECT [N]

(scripts/load/read_after_write.sh starts the service on the benchmark database and calls it.)
"""

import http.client
import json
import sys
import time
from urllib.parse import urlparse


def main() -> None:
    base, token, scheme, subject = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    auth = {"authorization": f"Bearer {token}"}

    def call(method: str, path: str, body: bytes | None = None, extra: dict | None = None) -> tuple[int, bytes]:
        conn.request(method, path, body=body, headers={**auth, **(extra or {})})
        reply = conn.getresponse()
        return reply.status, reply.read()

    reads = {"rankings": f"/api/v1/rankings?scheme_id={scheme}",
             "results": f"/api/v1/results?scheme_id={scheme}&subject_type=township"}
    times: dict[str, list[float]] = {name: [] for name in reads}
    for name, path in reads.items():  # warm: the year computed once before the first write
        call("GET", path)
    for i in range(rounds):
        finding = {"subject_id": subject, "item_code": "5", "rule_code": "bonus", "points": "0.5",
                   "note": f"read-after-write {i}", "occurred_on": f"2023-07-{i % 28 + 1:02d}"}
        status, body = call("POST", "/api/v1/incidents", json.dumps(finding).encode(),
                            {"content-type": "application/json"})
        if status != 201:
            sys.exit(f"write {i} answered {status}: {body[:300]!r}")
        for name, path in reads.items():
            t0 = time.perf_counter()
            status, body = call("GET", path)
            elapsed = (time.perf_counter() - t0) * 1000
            if status != 200:
                sys.exit(f"read {name} answered {status}: {body[:300]!r}")
            times[name].append(elapsed)
    for name, values in times.items():
        values.sort()
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
        print(f"read right after a write, {name:8} ({rounds} rounds): p50 {pick(0.5):.2f} ms, "
              f"p90 {pick(0.9):.2f} ms, p99 {pick(0.99):.2f} ms, max {values[-1]:.2f} ms")


if __name__ == "__main__":
    main()
