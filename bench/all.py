"""`make bench`: every benchmark in one run, each bounded in time; the total time printed.

    python bench/all.py            # load, weight, memory, mixed, slow: 12 to 14 minutes
    python bench/all.py --quick    # the same on the 1k database, short runs: about 4 minutes

Each step writes its results to bench/results/<step>.json (the quick run to
bench/results/quick-<step>.json) and prints its tables; a summary of the targets follows.
Performance targets that are missed are reported, not failures: the exit status is 1 only
when something did not work (errors under load, a lost save, a step that crashed).
"""

import argparse
import json
import sys
import time
import traceback

import common
import load
import memory
import mixed
import slow_clients
import weight

STEPS = (
    ("load", load.main, "throughput and latency: Newsdesk, minimal Flask, nginx"),
    ("weight", weight.main, "page weight of the first view"),
    ("memory", memory.main, "worker memory over 50,000 requests"),
    ("mixed", mixed.main, "mixed load, kill -9 and backup under load"),
    ("slow", slow_clients.main, "50 slow clients: sync, gthread, behind nginx"),
)
# Steps whose exit status 1 means "a target was missed", not "something broke".
TARGET_ONLY = {"weight", "memory"}


def read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def summary(results_for):
    lines = []
    load_report = results_for("load")
    if load_report:
        for t in load_report["targets"]:
            lines.append(
                f"throughput: {t['page']}, {t['cache']}, {t['connections']} connections:"
                f" {common.fmt(t['measured_pct'], '.0f')} % of the minimal Flask route's req/s"
                f" (by CPU {common.fmt(t['by_cpu_pct'], '.0f')} %),"
                f" target >= {t['target_pct']:.0f} %:"
                f" {'met' if t['met'] else 'MISSED'}"
            )
    weight_report = results_for("weight")
    if weight_report:
        for label, page in weight_report["pages"].items():
            lines.append(
                f"weight: {label}: {page['beyond_text'] / 1024:.1f} KB beyond the article's text"
                f" (target <= {page['target'] / 1024:.0f} KB): {'met' if page['met'] else 'MISSED'}"
            )
    memory_report = results_for("memory")
    if memory_report:
        growth = ", ".join(f"{g:+.1f}" for g in memory_report["growth_mb_since_full"].values())
        lines.append(
            f"memory: worker growth once the page caches were full (from"
            f" {memory_report['full_from_requests']} to {memory_report['requests']:,} requests):"
            f" {growth or '—'} MB (target <= {memory_report['growth_limit_mb']:.0f} MB):"
            f" {'met' if memory_report['met'] else 'MISSED'}"
        )
    mixed_report = results_for("mixed")
    if mixed_report:
        for phase in mixed_report["phases"]:
            verify = phase["verify"]
            merges = (
                f" ({verify['merged']:,} merged, {verify['conflicts_checked']:,} 409,"
                f" {len(verify['overwritten'])} overwritten)"
                if phase.get("merge")
                else ""
            )
            lines.append(
                f"durability: {phase['phase']}: {phase['saves']['acknowledged']:,} acknowledged"
                f" saves{merges}, {len(verify['missing'])} missing, {phase['log']['logged_5xx']}"
                f" 5xx, {phase['log']['database_locked']} 'database is locked', integrity"
                f" {' '.join(phase['integrity'])[:20]}: {'passed' if phase['ok'] else 'FAILED'}"
            )
    slow_report = results_for("slow")
    if slow_report:
        for r in slow_report["results"]:
            reader = r["reader"]
            lines.append(
                f"slow clients: {r['serving']}: reader answered {reader['answered']}/"
                f"{reader['asked']} while {slow_report['settings']['slow_clients']} slow"
                f" clients waited; article {common.fmt(r['alone']['rps'], ',.0f')} req/s alone"
            )
        lines.append(
            f"slow clients: target (gunicorn.conf.py as it is, every reader request answered):"
            f" {'met' if slow_report['target_met'] else 'MISSED'}"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1k database, short runs")
    parser.add_argument(
        "--only", action="append", choices=[name for name, _, _ in STEPS], help="run only these"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    prefix = "quick-" if args.quick else ""
    print("Newsdesk benchmarks (make bench)")
    common.print_machine(common.machine_info())
    failed, missed, times = [], [], {}
    for name, step, what in STEPS:
        if args.only and name not in args.only:
            continue
        print(f"\n===== {name}: {what} =====", flush=True)
        step_started = time.monotonic()
        path = common.RESULTS_DIR / f"{prefix}{name}.json"
        path.unlink(missing_ok=True)
        argv = ["--json", str(path), *(["--quick"] if args.quick else [])]
        if name == "memory":
            argv += ["--max-seconds", "420"]  # keeps `make bench` bounded on a busy machine
        try:
            status = step(argv)
        except SystemExit as error:
            status = error.code if isinstance(error.code, int) else 1
            if not isinstance(error.code, int):
                print(error.code, file=sys.stderr)
        except Exception:
            traceback.print_exc()
            status = 1
        times[name] = time.monotonic() - step_started
        if status:
            (missed if name in TARGET_ONLY and path.exists() else failed).append(name)
    total = time.monotonic() - started

    print("\n===== Summary =====")
    for line in summary(lambda name: read(common.RESULTS_DIR / f"{prefix}{name}.json")):
        print(f"  {line}")
    print("  time: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items()))
    print(f"Total: {total:.0f} s ({total / 60:.1f} minutes)")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    common.main_guard(main)
