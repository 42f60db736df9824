-- wrk script for bench/run --wrk-pipeline N: each connection sends N GET /
-- requests in one write and waits for the N responses (HTTP/1.1 pipelining).
-- wrk then spends a fraction of its CPU per request, which leaves more of a
-- small machine to the server under test.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local reqs = {}
  for i = 1, depth do
    reqs[i] = wrk.format(nil, "/")
  end
  batch = table.concat(reqs)
end

request = function()
  return batch
end
