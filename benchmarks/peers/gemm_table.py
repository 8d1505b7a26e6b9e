#!/usr/bin/env python3
"""One table from a benchmarks/gemm-sweep run: JMH's JSON (GemmBenchmark per backend, DjlGemmBenchmark,
FmaPeakBenchmark) and run-peers' OpenBLAS lines, as Markdown.

    gemm_table.py RESULT.json [PEERS.txt] [RUN.log]

Each cell is GFLOP/s (JMH mean +- 99.9% error) with the share of the FMA peak measured in the same
run (one core's peak times the thread count). The ratio columns divide by OpenBLAS's median round,
the more robust of the two numbers run-peers prints (best / median of ~0.2 s rounds). From the log
it takes the load (uptime) lines and the lines in which each peer reports its thread count.
"""
import json
import os
import sys

BACKENDS = [("simd", "simd"), ("nd4j", "nd4j (OpenBLAS 0.3.19)"), ("djl", "DJL (PyTorch 2.7.1)")]


def jmh_results(path):
    gemm = {}  # (backend, dtype, threads, n) -> (score, error)
    peak = {}  # dtype -> (score, error)
    with open(path) as f:
        for entry in json.load(f):
            name = entry["benchmark"].rsplit(".", 2)
            cls, method = name[-2], name[-1]
            metric = entry["secondaryMetrics"].get("gflops")
            if metric is None:
                continue
            value = (float(metric["score"]), float(metric["scoreError"]))  # "NaN" when too few iterations
            params = entry.get("params", {})
            if cls == "FmaPeakBenchmark":
                peak[method.upper()] = value
                continue
            threads = {"oneThread": 1, "twoThreads": 2}[method]
            backend = params.get("backend", "djl") if cls == "GemmBenchmark" else "djl"
            gemm[(backend, params["dtype"], threads, int(params["n"]))] = value
    return gemm, peak


def peer_results(path):
    peers = {}  # (dtype, threads, n) -> (best, median)
    header = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.startswith("# torch"):
                    header.append(line.strip("# \n"))
                if line.startswith("#") or not line.strip() or line.startswith("=="):
                    continue
                fields = line.split()
                if len(fields) == 5 and fields[0] in ("float32", "float64"):
                    peers[(fields[0].upper(), int(fields[1]), int(fields[2]))] = (float(fields[3]), float(fields[4]))
    return peers, header


def log_lines(path):
    loads, threads = [], []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("# start") or line.startswith("# after") or line.startswith("# benchmarks/") \
                        or line.startswith("# commit"):
                    loads.append(line.lstrip("# "))
                elif (line.startswith("nd4j OpenBLAS:") or line.startswith("DJL ")) and line not in threads:
                    threads.append(line)
    return loads, threads


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    gemm, peak = jmh_results(sys.argv[1])
    peers, peer_header = peer_results(sys.argv[2] if len(sys.argv) > 2 else None)
    loads, thread_lines = log_lines(sys.argv[3] if len(sys.argv) > 3 else None)
    present = [(key, label) for key, label in BACKENDS if any(k[0] == key for k in gemm)]

    out = []
    for line in loads:
        out.append(f"- {line}")
    for dtype, (score, error) in sorted(peak.items()):
        out.append(f"- FMA peak, one core, {dtype}: **{score:.1f} ± {error:.1f} GFLOP/s**")
    for line in peer_header:
        out.append(f"- OpenBLAS peer: {line}")
    for line in thread_lines:
        out.append(f"- {line}")
    out.append("")

    head = ["dtype", "threads", "n"] + [label for _, label in present]
    if peers:
        head += ["OpenBLAS (Debian torch 1.13) best / median"] + [f"{key} : OpenBLAS" for key, _ in present]
    out.append("| " + " | ".join(head) + " |")
    out.append("| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |")
    cases = sorted({k[1:] for k in gemm} | set(peers))
    for dtype, threads, n in cases:
        row = [dtype.lower().replace("float", "f"), str(threads), str(n)]
        one_core = peak.get(dtype, (None, None))[0]
        for key, _ in present:
            value = gemm.get((key, dtype, threads, n))
            if value is None:
                row.append("-")
                continue
            share = f" ({100 * value[0] / (one_core * threads):.0f}%)" if one_core else ""
            row.append(f"{value[0]:.1f} ± {value[1]:.1f}{share}")
        if peers:
            blas = peers.get((dtype, threads, n))
            row.append(f"{blas[0]:.1f} / {blas[1]:.1f}" if blas else "-")
            for key, _ in present:
                value = gemm.get((key, dtype, threads, n))
                row.append(f"{value[0] / blas[1]:.2f}x" if value and blas else "-")
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("Cells: GFLOP/s, JMH mean ± 99.9% error, (share of the FMA peak of `threads` cores measured in "
               "the same run). Ratios: against OpenBLAS's median round.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
