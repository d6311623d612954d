-- wrk script for `npm run bench`: realistic Routee delivery reports.
-- Ids are unique per run tag, thread and request; statuses rotate through Routee's six; every
-- 7th message has 3 parts; every 20th request re-sends the previous body (a retry, ~5%).
-- Args: -- TAG [QUOTA MARKER]. With a QUOTA, each thread stops after that many responses and
-- creates the file MARKER, so that bench.ts can end wrk (whose clock runs on to -d otherwise).
-- done() prints one line "BENCH {json}" that scripts/bench/server.ts reads.

local STATUSES = {
  { "Queued", "Queued", "The message is queued" },
  { "Sent", "Sent", "The message was sent to the operator" },
  { "Delivered", "Delivered", "The message was delivered" },
  { "Undelivered", "Expired", "The message validity period expired" },
  { "Failed", "Rejected", "The operator rejected the message" },
  { "Unsent", "Insufficient balance", "The message was not sent" },
}
local TEMPLATE = '{"messageId":"m-%s-%d-%d","smsId":"s-%s-%d-%d-%d","campaignTrackingId":null,'
  .. '"part":%d,"parts":%d,"label":"otp","to":"+3069%08d","from":"Routee","country":"GR",'
  .. '"operator":"Cosmote","groups":[],"campaignName":null,"status":{"name":"%s","reason":'
  .. '{"detailedStatus":"%s","description":"%s"},"updatedDate":"2019-07-05T10:28:%02dZ"},'
  .. '"message":"Your code is %04d","applicationName":"default","latency":2,"price":0.036,'
  .. '"direction":"Outbound","originatingService":"Sms"}'
local HEADERS = { ["Content-Type"] = "application/json" }

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

-- Per-thread state (each thread runs its own copy of this script).
sent, dups, responses = 0, 0, 0
local tag, quota, marker = "run", 0, nil
local msg, part, parts, last = 0, 1, 1, nil

function init(args)
  tag = args[1] or tag
  quota = tonumber(args[2] or "0")
  marker = args[3]
  if quota > 0 then
    -- Only the memory run counts responses; the timed rounds keep wrk's Lua work per reply at zero.
    response = function()
      responses = responses + 1
      if responses == quota then
        if marker then io.open(marker, "w"):close() end
        wrk.thread:stop()
      end
    end
  end
end

function request()
  sent = sent + 1
  if last ~= nil and sent % 20 == 0 then
    dups = dups + 1
    return last
  end
  if part >= parts then
    msg, part = msg + 1, 1
    parts = (msg % 7 == 0) and 3 or 1
  else
    part = part + 1
  end
  local s = STATUSES[sent % 6 + 1]
  local body = string.format(TEMPLATE, tag, tid, msg, tag, tid, msg, part, part, parts,
    msg % 100000000, s[1], s[2], s[3], sent % 60, sent % 10000)
  last = wrk.format("POST", "/sms/status", HEADERS, body)
  return last
end

function done(summary, latency, requests)
  local s, d = 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    d = d + t:get("dups")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"sent":%d,"dups":%d,"p50_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, s, d, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
