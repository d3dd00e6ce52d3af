"""Bounded HTTP load against 127.0.0.1: wrk when it is available, else a Python client.

Every run is a subprocess, so its CPU time (user + system) can be read from the kernel's
accounting of waited-for children and reported next to the throughput: a client that used
nearly all of its share of the cores would be the bottleneck, not the server."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from attrs import frozen

MARKER = "BENCHJSON "

WRK_SCRIPT = r"""
local tokens = {}
local counter = 0

function init(args)
  if args[1] and args[1] ~= "-" then
    for line in io.lines(args[1]) do
      if #line > 0 then table.insert(tokens, line) end
    end
  end
  counter = math.random(0, math.max(#tokens, 1))
end

request = function()
  if #tokens == 0 then return wrk.format() end
  counter = counter % #tokens + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Authorization"] = "Bearer " .. tokens[counter]
  return wrk.format(nil, nil, headers, nil)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_s": %.6f, "status_errors": %d, '
    .. '"socket_errors": %d, "timeouts": %d, "p50_ms": %.3f, "p99_ms": %.3f, '
    .. '"max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write,
    e.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@frozen
class LoadResult:
    tool: str
    concurrency: int
    requests: int
    ok: int
    failed: int  # non-2xx answers plus socket errors and timeouts
    duration_s: float
    p50_ms: float
    p99_ms: float
    client_cpu_s: float

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def client_cores(self) -> float:
        """How many cores the client kept busy on average."""
        return self.client_cpu_s / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "concurrency": self.concurrency, "requests": self.requests,
                "ok": self.ok, "failed": self.failed, "duration_s": round(self.duration_s, 3),
                "rps": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "client_cpu_s": round(self.client_cpu_s, 2),
                "client_cores": round(self.client_cores, 2)}


def find_wrk(log: Any = print) -> str | None:
    """The wrk binary; installed with apt-get when missing and we are root. None: use the
    Python client (`BENCH_LOAD_TOOL=python` forces that)."""
    if os.environ.get("BENCH_LOAD_TOOL", "").lower() == "python":
        log("load tool: Python client (BENCH_LOAD_TOOL=python)")
        return None
    found = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK)
                                    else None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: trying `apt-get install -y wrk` ...")
        try:
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                           timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        except (OSError, subprocess.TimeoutExpired) as error:
            log(f"apt-get failed: {error}")
        found = shutil.which("wrk")
    if found:
        log(f"load tool: wrk ({found})")
    else:
        log("load tool: wrk unavailable -> Python client (bench.pyload); its CPU use is "
            "reported, and it is likelier than wrk to be the bottleneck")
    return found


class LoadTool:
    """Runs one bounded load: `concurrency` connections for `duration` seconds."""

    def __init__(self, wrk: str | None) -> None:
        self.wrk = wrk
        self.name = "wrk" if wrk else "python"
        self._dir = Path(tempfile.mkdtemp(prefix="shop-bench-load-"))
        (self._dir / "bench.lua").write_text(WRK_SCRIPT)

    def run(self, url: str, concurrency: int, duration: float, *, method: str = "GET",
            body: dict[str, Any] | None = None, tokens: list[str] | None = None) -> LoadResult:
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise ValueError("The benchmark only ever loads 127.0.0.1")
        token_file = "-"
        if tokens:
            token_file = str(self._dir / "tokens.txt")
            Path(token_file).write_text("\n".join(tokens) + "\n")
        payload = json.dumps(body) if body is not None else None
        if self.wrk:
            command = self._wrk_command(url, concurrency, duration, method, payload,
                                        token_file)
        else:
            command = [sys.executable, "-m", "bench.pyload", "--url", url,
                       "--concurrency", str(concurrency), "--duration", str(duration),
                       "--method", method, "--tokens", token_file]
            if payload is not None:
                command += ["--body", payload]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(command, capture_output=True, text=True,
                                   timeout=duration + 60, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        data = _marked_json(completed.stdout)
        if data is None:
            raise RuntimeError(f"{self.name} failed (exit {completed.returncode}): "
                               f"{completed.stdout[-800:]} {completed.stderr[-800:]}")
        failed = data["status_errors"] + data["socket_errors"] + data["timeouts"]
        return LoadResult(tool=self.name, concurrency=concurrency,
                          requests=data["requests"],
                          ok=max(0, data["requests"] - data["status_errors"]),
                          failed=failed, duration_s=data["duration_s"],
                          p50_ms=data["p50_ms"], p99_ms=data["p99_ms"], client_cpu_s=cpu)

    def _wrk_command(self, url: str, concurrency: int, duration: float, method: str,
                     payload: str | None, token_file: str) -> list[str]:
        assert self.wrk is not None
        threads = max(1, min(2, concurrency))
        command = [self.wrk, "-t", str(threads), "-c", str(concurrency),
                   "-d", f"{max(1, round(duration))}s", "--timeout", "10s",
                   "-s", str(self._dir / "bench.lua")]
        if method != "GET" or payload is not None:
            # wrk takes the method and body from its Lua globals; set them via a small file.
            script = self._dir / f"post-{abs(hash((method, payload)))}.lua"
            script.write_text(
                f"wrk.method = {json.dumps(method)}\n"
                f"wrk.body = {json.dumps(payload or '')}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
                + WRK_SCRIPT)
            command[-1] = str(script)
        return [*command, url, "--", token_file]

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _marked_json(output: str) -> dict[str, Any] | None:
    for line in output.splitlines():
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER):])
            return result
    return None
