-- wrk script: 80 % reads (results and rankings), 20 % finding writes; counts acknowledged writes.
-- Environment: TOKEN, SCHEME, SUBJECTS (comma-separated township subject ids).
local token = os.getenv("TOKEN")
local scheme = os.getenv("SCHEME")
local subjects = {}
for id in string.gmatch(os.getenv("SUBJECTS"), "[^,]+") do subjects[#subjects + 1] = id end
counter = 0
acknowledged = 0
failures = 0
ids = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  wrk.headers["authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local slot = counter % 10
  if slot == 0 or slot == 5 then
    local subject = subjects[(counter % #subjects) + 1]
    local body = string.format(
      '{"subject_id":"%s","item_code":"5","rule_code":"bonus","points":"0.5","note":"load test %d-%d","occurred_on":"2023-06-%02d"}',
      subject, id, counter, (counter % 28) + 1)
    return wrk.format("POST", "/api/v1/incidents", { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, body)
  elseif slot % 2 == 0 then
    return wrk.format("GET", "/api/v1/rankings?scheme_id=" .. scheme)
  else
    return wrk.format("GET", "/api/v1/results?scheme_id=" .. scheme .. "&subject_type=township")
  end
end

function response(status, headers, body)
  if status == 201 then
    acknowledged = acknowledged + 1
    local id = string.match(body, '"id":"([^"]+)"')
    if id then ids[#ids + 1] = id end
  elseif status >= 400 then
    failures = failures + 1
    if failures <= 3 then io.write(string.format("failed %d: %s\n", status, body)) end
  end
end

function done(summary, latency, requests)
  local acks, fails = 0, 0
  local out = io.open(os.getenv("ACKED_IDS"), "w")
  for _, thread in ipairs(threads) do
    acks = acks + thread:get("acknowledged")
    fails = fails + thread:get("failures")
    for _, id in ipairs(thread:get("ids")) do out:write(id, "\n") end
  end
  out:close()
  io.write(string.format("acknowledged_writes %d\n", acks))
  io.write(string.format("failed_responses %d\n", fails))
  io.write(string.format("p50_ms %.1f\n", latency:percentile(50) / 1000))
  io.write(string.format("p99_ms %.1f\n", latency:percentile(99) / 1000))
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("socket_errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
end
