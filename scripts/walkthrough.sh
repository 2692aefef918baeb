#!/usr/bin/env bash
# The README's curl walk-through, as one script: run it against a fresh service
#   KAOHE__BOOTSTRAP__ADMIN_PASSWORD=admin-password-123 cargo run --release
#   scripts/walkthrough.sh
# CI runs it too, so the README's examples keep working.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8080}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin-password-123}
J='content-type: application/json'
step() { printf '\n### %s\n' "$*"; }
# Fails the script when the status is not the expected one, showing the problem document.
expect() { local want=$1; shift; local out; out=$(curl -s -w '\n%{http_code}' "$@"); local code=${out##*$'\n'}; local body=${out%$'\n'*};
  if [ "$code" != "$want" ]; then echo "expected $want, got $code: $body" >&2; exit 1; fi; printf '%s' "$body"; }

step "Log in as the bootstrapped county admin"
TOKEN=$(curl -s -X POST $BASE/api/v1/auth/token -H "$J" \
  -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .access_token)
AUTH="authorization: Bearer $TOKEN"

step "Seed A: a town, its villages, the town's 2023 scheme"
TOWN=$(expect 201 -X POST $BASE/api/v1/org-units -H "$AUTH" -H "$J" -d '{"kind":"township","name":"童市镇"}' | jq -r .id)
V1=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" \
  -d "{\"subject_type\":\"village\",\"name\":\"童市村\",\"parent_id\":\"$TOWN\"}" | jq -r .id)
V2=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" \
  -d "{\"subject_type\":\"village\",\"name\":\"大路村\",\"parent_id\":\"$TOWN\"}" | jq -r .id)
SEED_A=$(expect 201 -X POST $BASE/api/v1/schemes -H "$AUTH" -H "$J" \
  -d "{\"built_in\":\"tongshi-2023-village\",\"year\":2023,\"org_unit_id\":\"$TOWN\"}" | jq -r .id)

step "Findings of every method (DOMAIN.md §11 example A)"
finding() { expect 201 -X POST $BASE/api/v1/incidents -H "$AUTH" -H "$J" -d "$1" | jq -r .id; }
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.1\",\"rule_code\":\"L1\",\"quantity\":4,\"occurred_on\":\"2023-03-15\",\"source\":\"system_analysis\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.1\",\"rule_code\":\"L2\",\"quantity\":5,\"occurred_on\":\"2023-04-15\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.1\",\"rule_code\":\"L3\",\"quantity\":7,\"occurred_on\":\"2023-05-15\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.2\",\"period\":\"Q1\",\"rate\":\"92\",\"occurred_on\":\"2023-03-31\",\"source\":\"phone_sampling\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.2\",\"period\":\"Q2\",\"rate\":\"85\",\"occurred_on\":\"2023-06-30\",\"source\":\"phone_sampling\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.2\",\"period\":\"Q3\",\"rate\":\"70.5\",\"occurred_on\":\"2023-09-30\",\"source\":\"phone_sampling\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.2\",\"period\":\"Q4\",\"sampled\":40,\"correct\":24,\"occurred_on\":\"2023-12-20\",\"source\":\"phone_sampling\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"1.3\",\"rule_code\":\"error\",\"quantity\":12,\"occurred_on\":\"2023-06-01\",\"source\":\"higher_feedback\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"2.1\",\"rule_code\":\"missed_household\",\"occurred_on\":\"2023-07-01\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"3.1\",\"rule_code\":\"criticized\",\"quantity\":2,\"occurred_on\":\"2023-08-01\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"3.1\",\"rule_code\":\"missing_doc\",\"occurred_on\":\"2023-08-01\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"4.1\",\"rule_code\":\"county\",\"event_key\":\"2023 防返贫监测先进\",\"occurred_on\":\"2023-09-01\"}"
finding "{\"subject_id\":\"$V1\",\"item_code\":\"4.1\",\"rule_code\":\"city\",\"event_key\":\"2023 防返贫监测先进\",\"occurred_on\":\"2023-11-01\"}"
WRONG=$(finding "{\"subject_id\":\"$V2\",\"item_code\":\"3.3\",\"rule_code\":\"absent\",\"occurred_on\":\"2023-05-08\"}")
CONTESTED=$(finding "{\"subject_id\":\"$V2\",\"item_code\":\"2.2\",\"rule_code\":\"missing_ledger\",\"occurred_on\":\"2023-06-12\"}")
finding "{\"subject_id\":\"$V2\",\"kind\":\"veto\",\"occurred_on\":\"2023-10-12\",\"note\":\"重点工作被县级一票否决\"}"

step "A bad finding is refused, naming the field (422), and nothing is written"
expect 422 -X POST $BASE/api/v1/incidents -H "$AUTH" -H "$J" \
  -d "{\"subject_id\":\"$V1\",\"item_code\":\"1.1\",\"rule_code\":\"L9\",\"occurred_on\":\"2023-03-15\"}" | jq -c '{code, errors}'

step "Revoke a finding recorded by mistake"
expect 200 -X POST $BASE/api/v1/incidents/$WRONG/revoke -H "$AUTH" -H "$J" -d '{"reason":"录入错误：该村当日请假获批"}' | jq -c '{id, status, revoke_reason}'

step "The village appeals a finding; the town's assessor accepts it (the finding is revoked)"
expect 201 -X POST $BASE/api/v1/users -H "$AUTH" -H "$J" -d "{\"username\":\"dalu-village\",\"display_name\":\"大路村村委\",\"password\":\"village-password-1\",\"org_unit_id\":\"$V2\",\"role\":\"viewer\"}" >/dev/null
expect 201 -X POST $BASE/api/v1/users -H "$AUTH" -H "$J" -d "{\"username\":\"tongshi-assessor\",\"display_name\":\"童市镇乡村振兴办\",\"password\":\"assessor-password-1\",\"org_unit_id\":\"$TOWN\",\"role\":\"assessor\"}" >/dev/null
VILLAGE=$(curl -s -X POST $BASE/api/v1/auth/token -H "$J" -d '{"username":"dalu-village","password":"village-password-1"}' | jq -r .access_token)
ASSESSOR=$(curl -s -X POST $BASE/api/v1/auth/token -H "$J" -d '{"username":"tongshi-assessor","password":"assessor-password-1"}' | jq -r .access_token)
APPEAL=$(expect 201 -X POST $BASE/api/v1/incidents/$CONTESTED/appeals -H "authorization: Bearer $VILLAGE" -H "$J" -d '{"reason":"台账已于6月10日补齐，附照片"}' | jq -r .id)
expect 200 -X POST $BASE/api/v1/appeals/$APPEAL/decision -H "authorization: Bearer $ASSESSOR" -H "$J" -d '{"decision":"accept","note":"经核实台账齐全"}' | jq -c '{status}'

step "Monthly standing for June (逐月公开) and the year-end result of 童市村, explained"
expect 200 "$BASE/api/v1/results?scheme_id=$SEED_A&kind=monthly&month=6" -H "$AUTH" | jq -c '.items[] | {name, published_score, standings}'
expect 200 "$BASE/api/v1/subjects/$V1/result?scheme_id=$SEED_A" -H "$AUTH" | jq -c '.result.evaluations[0].outcome | {total, published_score}'

step "Close the year-end evaluation"
EVAL=$(expect 200 "$BASE/api/v1/evaluations?scheme_id=$SEED_A" -H "$AUTH" | jq -r '.items[] | select(.kind=="year_end") | .id')
expect 200 -X POST $BASE/api/v1/evaluations/$EVAL/close -H "$AUTH" | jq -c '{key, status}'

step "Seed B: the county scheme, the five kinds of subject with their links"
SEED_B=$(expect 201 -X POST $BASE/api/v1/schemes -H "$AUTH" -H "$J" -d '{"built_in":"county-poverty","year":2023}' | jq -r .id)
DEPT=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" -d '{"subject_type":"department","name":"县农业农村局"}' | jq -r .id)
FS=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" -d "{\"subject_type\":\"first_secretary\",\"name\":\"李明\",\"dispatched_by\":\"$DEPT\",\"stationed_in\":\"$V1\"}" | jq -r .id)
WT=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" -d "{\"subject_type\":\"work_team\",\"name\":\"童市村驻村工作队\",\"dispatched_by\":\"$DEPT\",\"stationed_in\":\"$V1\"}" | jq -r .id)
AT=$(expect 201 -X POST $BASE/api/v1/subjects -H "$AUTH" -H "$J" -d "{\"subject_type\":\"agri_tech\",\"name\":\"王芳\",\"stationed_in\":\"$V2\"}" | jq -r .id)
expect 200 -X PUT $BASE/api/v1/subjects/$DEPT/attributes/$SEED_B -H "$AUTH" -H "$J" -d '{"has_special_indicators":false,"ranking_group":"经济类","version":0}' | jq -c '{has_special_indicators, ranking_group, version}'

step "Scoresheets (two assessors) and democratic ballots for the first secretary"
HALF=$(expect 200 "$BASE/api/v1/evaluations?scheme_id=$SEED_B&kind=half_year" -H "$AUTH" | jq -r '.items[0].id')
DEMO1=$(expect 200 "$BASE/api/v1/evaluations?scheme_id=$SEED_B&kind=democratic" -H "$AUTH" | jq -r '.items[0].id')
for who in 县考核组一 县考核组二; do
  expect 201 -X POST $BASE/api/v1/scoresheets -H "$AUTH" -H "$J" -d "{\"evaluation_id\":\"$HALF\",\"subject_id\":\"$FS\",\"assessor\":\"$who\",\"scores\":{\"1\":\"14\",\"2\":\"18\",\"3\":\"14\",\"4\":\"13.5\",\"5\":\"5\",\"6\":\"14\",\"7\":\"13\"}}" | jq -c '{assessor, supersedes}'
done
printf 'evaluation_id,subject_id,score,participant\n%s,%s,93.5,代表01\n%s,%s,95.0,代表02\n%s,%s,91.0,代表03\n' \
  $DEMO1 $FS $DEMO1 $FS $DEMO1 $FS > /tmp/kaohe-ballots.csv
expect 201 -X POST "$BASE/api/v1/ballots:bulk" -H "$AUTH" -H 'content-type: text/csv' --data-binary @/tmp/kaohe-ballots.csv | jq -c '{rows, created}'
expect 200 "$BASE/api/v1/subjects/$FS/result?scheme_id=$SEED_B" -H "$AUTH" | jq -c '.result | {annual: .annual.published_score, grade: .grade.title}'

step "Rankings, as CSV for Excel"
expect 200 "$BASE/api/v1/rankings?scheme_id=$SEED_A&headers=zh" -H "$AUTH" -H 'accept: text/csv' | head -3

step "Every change is in the audit trail"
expect 200 "$BASE/api/v1/audit-events?entity=incident&limit=3" -H "$AUTH" | jq -c '.items[] | {seq, action, entity, actor}'
echo
echo "walk-through completed"
