#!/usr/bin/env python3
"""Generates findings for the benchmark county: N adjustment and amount findings spread over the
Seed B subjects that have an adjustment section, as NDJSON for the bulk API and, with the same
content and fresh ids, as CSV rows of the incidents table for `psql \\copy`.

usage: bench_data.py SUBJECTS_JSON SCHEME_JSON COUNT OUT_NDJSON OUT_COPY_CSV RECORDED_BY
"""
import json
import random
import sys
import uuid
from datetime import datetime, timezone

subjects_path, scheme_path, count, out_ndjson, out_csv, recorded_by = sys.argv[1:7]
count = int(count)
subjects = json.load(open(subjects_path))
scheme = json.load(open(scheme_path))
definition = scheme["definition"]
rubric_ids = {r["subject_type"]: r["rubric_id"] for r in scheme["rubrics"]}


def adjustment_item(subject_type):
    for node in definition["subject_types"][subject_type]["rubric"]["nodes"]:
        if node.get("kind") == "item" and node["method"]["type"] == "adjustment":
            return node
    return None


items = {t: adjustment_item(t) for t in definition["subject_types"]}
eligible = [s for s in subjects if items.get(s["subject_type"])]
rng = random.Random(2023)
now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")
columns = [
    "id", "county_id", "created_at", "updated_at", "version", "scheme_id", "rubric_id", "subject_id",
    "township_id", "village_id", "kind", "item_code", "rule_code", "occurred_on", "quantity", "period",
    "rate", "sampled", "correct", "amount", "points", "event_key", "source", "note", "evidence",
    "recorded_by", "upload_id", "status", "revoked_at", "revoked_by", "revoke_reason",
]
with open(out_ndjson, "w") as nd, open(out_csv, "w") as cp:
    for i in range(count):
        s = eligible[i % len(eligible)]
        item = items[s["subject_type"]]
        rule = rng.choice(item["method"]["rules"])
        day = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        row = {"subject_id": s["id"], "scheme_id": scheme["id"], "item_code": item["code"],
               "rule_code": rule["code"], "occurred_on": day, "source": "daily_inspection"}
        if rule["kind"]["type"] == "stepped_amount":
            row["amount"] = str(rng.randint(1, 30) * 1000)
            kind, points, amount = "amount", "", row["amount"]
        else:
            sign = -1 if "penalty" in rule["code"] else 1
            row["points"] = str(sign * rng.choice([0.5, 1, 1.5, 2]))
            row["note"] = "基准测试数据"
            kind, points, amount = "adjustment", row["points"], ""
        nd.write(json.dumps(row, ensure_ascii=False) + "\n")
        values = [
            str(uuid.uuid4()), s["county_id"], now, now, "1", scheme["id"], rubric_ids[s["subject_type"]], s["id"],
            s["township_id"] or "", s["village_id"] or "", kind, item["code"], rule["code"], day, "1", "",
            "", "", "", amount, points, "", "daily_inspection", row.get("note", ""), "[]",
            recorded_by, "", "active", "", "", "",
        ]
        cp.write(",".join(values) + "\n")
print(",".join(columns))
