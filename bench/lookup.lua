-- wrk script for bench/lookup.py: GET a random tracking number from a list (or the bare view),
-- with the viewer's API token, and print one JSON line of results.
--   KT1_BENCH_MODE=lookup|bare  KT1_BENCH_TOKEN=...  wrk ... -s lookup.lua URL -- numbers.txt

local mode = os.getenv("KT1_BENCH_MODE") or "lookup"
wrk.headers["Authorization"] = "Token " .. (os.getenv("KT1_BENCH_TOKEN") or "")
wrk.headers["X-Forwarded-Proto"] = "https"  -- what the TLS proxy adds in production

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local numbers = {}
function init(args)
  if mode == "lookup" then
    for line in io.lines(args[1]) do
      if #line > 0 then numbers[#numbers + 1] = line end
    end
  end
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  if mode == "bare" then
    return wrk.format("GET", "/bench/bare/")
  end
  return wrk.format("GET", "/api/v1/items/" .. numbers[math.random(#numbers)] .. "/")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
