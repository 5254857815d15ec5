-- wrk script for bench/run_http's `pipelined` workload: every write carries DEPTH pipelined
-- requests (default 16) for the URL's path, wrk's pipeline.lua / TechEmpower's pattern.
--   wrk -t1 -c64 -d10s --latency -s bench/http/pipeline.lua http://127.0.0.1:PORT/plaintext -- 16
-- wrk counts (and times) each response, so Requests/sec is responses per second.

init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
   end
   req = table.concat(r)
end

request = function()
   return req
end
