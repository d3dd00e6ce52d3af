"""Ratios against the targets, and the table printed at the end of a run.

A shared machine's speed drifts, on some by a factor of two within seconds. So the run
measures in rounds: each round loads every app (or the shop and pgbench) back to
back, a ratio is taken between figures of the same round, and a target is judged on the
median of those ratios. The table shows each figure's median round and the spread."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

Rounds = dict[int, dict[int, float]]  # round -> concurrency -> rate


def _rates(points: list[dict[str, Any]], key: str = "rps") -> Rounds:
    """A scenario's points (one per round and concurrency) as round -> concurrency -> rate;
    a point without a round belongs to round 0."""
    rounds: Rounds = defaultdict(dict)
    for point in points:
        rounds[point.get("round", 0)][point["concurrency"]] = point[key]
    return rounds


def _paired(top: Rounds, bottom: Rounds) -> dict[int, list[float]]:
    """concurrency -> the ratio top / bottom of each round that measured both."""
    ratios: dict[int, list[float]] = defaultdict(list)
    for number, rates in sorted(top.items()):
        for concurrency, rate in sorted(rates.items()):
            below = bottom.get(number, {}).get(concurrency)
            if below:
                ratios[concurrency].append(rate / below)
    return ratios


def _peak_ratios(top: Rounds, bottom: Rounds) -> list[float]:
    """Per round: the best rate of `top` over the best rate of `bottom` (their capacities)."""
    return [max(rates.values()) / max(bottom[number].values())
            for number, rates in sorted(top.items())
            if rates and bottom.get(number) and max(bottom[number].values())]


def median_points(points: list[dict[str, Any]], key: str = "rps") -> list[dict[str, Any]]:
    """Per concurrency, the point of the median round, with the rates of every round."""
    by_concurrency: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for point in points:
        by_concurrency[point["concurrency"]].append(point)
    chosen = []
    for _, group in sorted(by_concurrency.items()):
        ranked = sorted(group, key=lambda p: p[key])
        chosen.append({**ranked[(len(ranked) - 1) // 2],
                       "rounds": [p[key] for p in group]})
    return chosen


def _spread(values: list[float]) -> list[float]:
    return [round(min(values), 3), round(max(values), 3)] if values else []


def _verdict(value: float | None, threshold: float, *, below: bool = False) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value < threshold if below else value >= threshold) else "FAIL"


def summarize(results: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    """Every targeted figure with its verdict, from ratios within a round. A read ratio
    compares each app's best throughput over the concurrencies of the round (its capacity);
    per-concurrency ratios are kept too."""
    summary: dict[str, Any] = {}
    reads = results.get("reads", {})
    floor = _rates(reads.get("floor", []))
    for name in ("postgres", "sqlite"):
        key = f"catalogue_{'pg' if name == 'postgres' else name}_vs_floor"
        catalogue = _rates(reads.get(name, []))
        rounds = _peak_ratios(catalogue, floor)
        ratio = statistics.median(rounds) if rounds else None
        per_c = {str(c): round(statistics.median(r), 3)
                 for c, r in _paired(catalogue, floor).items()}
        summary[key] = {"value": _round(ratio), "target": f">= {targets[key]}",
                        "rounds": _spread(rounds), "per_concurrency": per_c,
                        "verdict": _verdict(ratio, targets[key])}
    paired = _paired(_rates(results.get("orders", {}).get("points", [])),
                     _rates(results.get("pgbench", []), "tps"))
    ratios = {str(c): round(statistics.median(r), 3) for c, r in paired.items()}
    worst = min(ratios.values()) if ratios else None
    # The rounds of the concurrency that decides the verdict.
    worst_rounds = min(paired.values(), key=statistics.median) if paired else []
    summary["orders_vs_pgbench"] = {"value": worst, "per_concurrency": ratios,
                                    "rounds": _spread(worst_rounds),
                                    "target": f">= {targets['orders_vs_pgbench']} (each c)",
                                    "verdict": _verdict(worst, targets["orders_vs_pgbench"])}
    delayed = {p["concurrency"]: p["rps"]
               for p in median_points(results.get("delayed", {}).get("points", []))}
    growth = delayed[32] / delayed[1] if delayed.get(1) and 32 in delayed else None
    summary["delay_32_vs_1"] = {"value": _round(growth),
                                "target": f">= {targets['delay_32_vs_1']}",
                                "verdict": _verdict(growth, targets["delay_32_vs_1"])}
    expiry = results.get("expiry", {})
    seconds = expiry.get("seconds")
    verdict = _verdict(seconds, targets["expiry_seconds"], below=True)
    if seconds is not None and not expiry.get("stock_restored_exactly"):
        verdict = "FAIL"
    summary["expiry_seconds"] = {"value": seconds, "target": f"< {targets['expiry_seconds']}",
                                 "verdict": verdict}
    shop_rss = [rss for label, memory in results.get("memory", {}).items()
                if label.startswith("shop") for rss in memory["rss_mb"]]
    biggest = max(shop_rss) if shop_rss else None
    summary["worker_rss_mb"] = {"value": biggest, "target": f"< {targets['worker_rss_mb']}",
                                "verdict": _verdict(biggest, targets["worker_rss_mb"],
                                                    below=True)}
    checks = [results.get(k, {}).get("stock_check", {}).get("conserved")
              for k in ("orders", "delayed")] + [results.get("sellout", {}).get("exact")]
    known = [c for c in checks if c is not None]
    summary["zero_oversell"] = {"value": all(known) if known else None, "target": "exact",
                                "verdict": "n/a" if not known else
                                ("PASS" if all(known) else "FAIL")}
    return summary


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def table(results: dict[str, Any], summary: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m = results.get("machine", {})
    add("")
    add(f"shop benchmark - {m.get('cores')} cores, {m.get('memory_mb')} MiB, {m.get('cpu')}, "
        f"PostgreSQL {m.get('postgresql')}, Python {m.get('python')}, load tool "
        f"{results.get('load_tool')}")
    add(f"gunicorn {results.get('gunicorn')}")
    header = (f"{'scenario':<28}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
              f"{'client':>8}{'server':>8}{'pg':>6}  rounds")
    add("")
    add(header)
    add("-" * len(header))

    def spread(p: dict[str, Any]) -> str:
        rates = p.get("rounds", [])
        return f"  {min(rates):.0f}-{max(rates):.0f}" if len(rates) > 1 else ""

    def row(name: str, p: dict[str, Any]) -> None:
        add(f"{name:<28}{p['concurrency']:>4}{p['rps']:>10.1f}{p['p50_ms']:>9.1f}"
            f"{p['p99_ms']:>9.1f}{p['failed']:>8}{p['client_cores']:>8.2f}"
            f"{p.get('server_cores', 0):>8.2f}{p.get('postgres_cores', 0):>6.2f}{spread(p)}")

    for name, label in (("floor", "reads: Flask floor"), ("sqlite", "reads: catalogue SQLite"),
                        ("postgres", "reads: catalogue PostgreSQL")):
        for point in median_points(results.get("reads", {}).get(name, [])):
            row(label, point)
    for point in median_points(results.get("orders", {}).get("points", [])):
        row("orders: hot SKU, sandbox", point)
    for point in median_points(results.get("pgbench", []), "tps"):
        add(f"{'pgbench: reserve + insert':<28}{point['concurrency']:>4}{point['tps']:>10.1f}"
            f"{point['latency_avg_ms']:>9.1f}{'(avg)':>9}{'':>8}"
            f"{point['client_cpu_s'] / point['duration_s']:>8.2f}{'':>14}{spread(point)}")
    for point in median_points(results.get("delayed", {}).get("points", [])):
        row("orders: gateway +200 ms", point)
    add("client, server, pg: CPU in cores. Each row is the median round; rounds: the lowest "
        "and highest rate.")
    add("")
    for key in ("orders", "delayed"):
        check = results.get(key, {}).get("stock_check")
        if check:
            add(f"stock check ({key}): stock {check['stock']} + held by {check['orders_holding']}"
                f" orders {check['held']} = {check['stock'] + check['held']} "
                f"(initial {check['initial']}): {'OK' if check['conserved'] else 'MISMATCH'}")
    sellout = results.get("sellout")
    if sellout:
        add(f"sell-out race ({sellout['initial']} units, 32 clients, "
            f"{2 * sellout['initial']} orders): {sellout['accepted']} accepted, "
            f"{sellout['refused']} refused (409), {sellout['other']} other, stock left "
            f"{sellout['stock']}, held {sellout['held']}: "
            f"{'OK' if sellout['exact'] else 'WRONG'}")
    expiry = results.get("expiry")
    if expiry:
        add(f"expiry: {expiry['output']} in {expiry['seconds']} s (CLI start-up "
            f"{expiry['cli_startup_seconds']} s); {expiry['timed_out']} timed out, stock "
            f"restored exactly: {expiry['stock_restored_exactly']}")
    accounts = results.get("accounts")
    if accounts:
        add(f"accounts: {accounts['users']} sign-ups + sign-ins in {accounts['seconds']} s "
            f"({accounts['hashes_per_s']} password hashes/s)")
    for label, memory in results.get("memory", {}).items():
        add(f"memory {label}: {memory['workers']} workers, RSS {memory['rss_mb']} MB "
            f"(peak {memory['peak_rss_mb']} MB; private {memory.get('private_mb')} MB, "
            f"PSS {memory.get('pss_mb')} MB)")
    add("")
    add(f"{'target':<36}{'value':>10}  {'wanted':<16}verdict")
    names = {"catalogue_pg_vs_floor": "catalogue PostgreSQL / floor",
             "catalogue_sqlite_vs_floor": "catalogue SQLite / floor",
             "orders_vs_pgbench": "hot-SKU orders/s / pgbench tps",
             "delay_32_vs_1": "200 ms gateway: c=32 / c=1",
             "expiry_seconds": "expire 100,000 orders (s)",
             "worker_rss_mb": "largest shop worker RSS (MB)",
             "zero_oversell": "zero oversell"}
    for key, name in names.items():
        s = summary.get(key, {})
        extra = f"  per c: {s['per_concurrency']}" if s.get("per_concurrency") else ""
        if s.get("rounds"):
            extra += f"; rounds {s['rounds'][0]}-{s['rounds'][1]}"
        add(f"{name:<36}{str(s.get('value')):>10}  {s.get('target', ''):<16}"
            f"{s.get('verdict')}{extra}")
    for note in results.get("notes", []):
        add(f"note: {note}")
    for error in results.get("errors", []):
        add(f"ERROR: {error}")
    add(f"elapsed {results.get('elapsed_s')} s")
    return "\n".join(lines)
