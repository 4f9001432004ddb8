-- wrk script for bench/run.py: spreads requests over the paths listed in a file
-- (one a line, given after `--`), optionally sends a cookie, and prints what the
-- harness reads as one line starting with BENCH_JSON. Latencies are microseconds.
--
--   wrk -t2 -c8 -d10s -s bench/wrk_report.lua http://127.0.0.1:8201 -- paths.txt [cookie]

local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if args[2] and #args[2] > 0 then
    wrk.headers["Cookie"] = args[2]
  end
  -- Each thread has its own Lua state; seed each differently.
  local address = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
  math.randomseed(os.time() + address % 100000)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean
  ))
end
