"""wrk, the compiled load generator scripts/bench.py drives every endpoint with.

A Python load generator on the same 2 CPUs as the server took a share of them that grew
with the server's speed, which understated and blurred the ratios. wrk (C, one thread,
keep-alive) costs the server far less. Each endpoint gets a pool of ready-made requests
written under var/bench/ by the bench's own ``request_for`` (so a new request kind, the
OTP ones for instance, needs nothing here) and one Lua script that replays the pool:
varying numbers, message ids and signatures without any work in Lua per request.
"""

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
RequestFor = Callable[[str, int, dict[str, str]], tuple[str, str, bytes | None, dict[str, str]]]

# Replays the pool file given as the first argument from the offset given as the second,
# one request after the other; a third argument is milliseconds to wait before each
# request of a connection (a paced load), none for as fast as the server answers.
POOL_LUA = """
local pool, n, i, pause = {}, 0, 0, nil
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = data:find("\\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    n = n + 1
    pool[n] = data:sub(nl + 1, nl + len)
    pos = nl + len + 1
  end
  i = tonumber(args[2] or "0") % n
  if args[3] then pause = tonumber(args[3]) end
end
function request()
  i = i % n + 1
  return pool[i]
end
"""
# wrk decides whether a script paces its requests from the script as loaded, before init.
PACED_LUA = (
    POOL_LUA
    + """
function delay()
  return pause
end
"""
)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is missing; `make bench` installs it (apt-get install -y wrk)")
    return found


def raw_request(method: str, path: str, body: bytes | None, headers: dict[str, str], port: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def pool_write(
    kind: str, numbers: Iterable[int], request_for: RequestFor, creds: dict[str, str], port: int
) -> Path:
    """Write the requests of ``numbers`` (the bench's request numbering) as a pool file."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{kind}.pool"
    with path.open("wb") as out:
        for n in numbers:
            data = raw_request(*request_for(kind, n, creds), port=port)
            out.write(b"%d\n" % len(data) + data)
    return path


def lua_script(*, paced: bool = False) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / ("paced.lua" if paced else "pool.lua")
    path.write_text(PACED_LUA if paced else POOL_LUA)
    return path


def wrk_run(
    pool: Path, *, port: int, seconds: float, connections: int, offset: int = 0, pause_ms: float | None = None
) -> dict[str, Any]:
    """One wrk run against ``pool``: requests, errors (non-2xx/3xx and socket errors), req/s,
    latency percentiles in ms."""
    args = [str(pool), str(offset)] + ([f"{pause_ms:.3f}"] if pause_ms is not None else [])
    cmd = [
        wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
        "-s", str(lua_script(paced=pause_ms is not None)), f"http://127.0.0.1:{port}", "--", *args,
    ]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return wrk_parse(out)


def wrk_parse(out: str) -> dict[str, Any]:
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if requests is None:
        raise SystemExit(f"bench: wrk printed no summary:\n{out}")
    total = int(requests.group(1))
    seconds = float(requests.group(2)) * {"s": 1, "ms": 0.001, "m": 60}.get(requests.group(3), 1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(x) for x in sockets.groups()) if sockets else 0
    latency = {
        f"p{p}_ms": _ms(value, unit)
        for p, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(\w+)", out, re.M)
    }
    return {
        "requests": total,
        "errors": errors,
        "seconds": round(seconds, 2),
        "rps": round(total / seconds, 1) if seconds else 0.0,
        **latency,
    }


def _ms(value: str, unit: str) -> float:
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}.get(unit, 1.0), 3)
