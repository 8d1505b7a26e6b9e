#!/usr/bin/env python3
"""One table from a benchmarks/conv-sweep run: JMH's JSON (ConvBenchmark per backend) and
torch_conv.py's lines (PyTorch 1.13), as Markdown.

    conv_table.py RESULT.json [PEERS.txt] [RUN.log]

Cells are milliseconds per call: JMH's mean +- 99.9% error for Adjoint, best / median of ~0.3 s rounds
for PyTorch. The ratio is PyTorch's median over Adjoint's mean, so above 1.0x Adjoint is faster.
The load lines (uptime) of the log are printed under the table.
"""
import json
import os
import sys


def jmh_results(path):
    results = {}  # (backend, case, threads) -> (score, error)
    with open(path) as f:
        for entry in json.load(f):
            cls, method = entry["benchmark"].rsplit(".", 2)[-2:]
            params = entry.get("params", {})
            backend = "djl" if cls == "DjlConvBenchmark" else params["backend"]
            threads = 1 if method.endswith("OneThread") else 2
            case = params["shape"] if method.startswith("conv") else "cnnStep"
            metric = entry["primaryMetric"]
            cpu = None
            aux = entry.get("secondaryMetrics", {})
            if "cpuNanos" in aux and "calls" in aux and float(aux["calls"]["score"]) > 0:
                cpu = float(aux["cpuNanos"]["score"]) / float(aux["calls"]["score"]) / 1e6
            results[(backend, case, threads)] = (float(metric["score"]), float(metric["scoreError"]), cpu)
    return results


def peer_results(path):
    """PyTorch's lines by (case, threads). A case measured twice (conv-sweep runs two-thread cases with
    OpenMP spinning and, after a "# OMP_WAIT_POLICY=PASSIVE" line, passive) keeps its faster median,
    its path noting the wait policy it ran with."""
    peers, header = {}, []
    policy = ""
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.startswith("# torch") and line.strip("# \n") not in header:
                    header.append(line.strip("# \n"))
                if line.startswith("# OMP_WAIT_POLICY="):
                    policy = "" if line.strip() == "# OMP_WAIT_POLICY=default" else line.strip("# \n")
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.split()
                if len(fields) >= 5:
                    key = (fields[0], int(fields[1]))
                    ran = " ".join(fields[5:]) + (f", {policy}" if policy else "")
                    result = (float(fields[2]), float(fields[3]), float(fields[4]), ran)
                    if key not in peers or result[1] < peers[key][1]:
                        peers[key] = result
    return peers, header


def main():
    results = jmh_results(sys.argv[1])
    peers, header = peer_results(sys.argv[2] if len(sys.argv) > 2 else None)
    order_backends = ["simd", "nd4j", "scalar", "djl"]
    backends = sorted({b for (b, _, _) in results}, key=lambda b: order_backends.index(b) if b in order_backends else 9)
    names = {"djl": "DJL 0.35 / PyTorch 2.7.1"}
    cases = []
    for (_, case, _) in results:
        if case not in cases:
            cases.append(case)
    order = ["resnet3x3", "stem7x7", "depthwise3x3", "depthwise3x3s2", "fmnist1", "fmnist2", "cnnStep"]
    cases.sort(key=lambda c: order.index(c) if c in order else len(order))
    head = ["case", "threads"] + [names.get(b, f"Adjoint {b}") for b in backends]
    head += ["PyTorch 1.13 best / median (CPU)"] + [f"{b} vs PyTorch 1.13: wall (CPU)" for b in backends]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---", "---:"] + ["---:"] * (len(head) - 2)) + " |")
    for case in cases:
        for threads in (1, 2):
            row = [case, str(threads)]
            mine = [results.get((b, case, threads)) for b in backends]
            if all(m is None for m in mine):
                continue
            peer = peers.get((case, threads))
            for m in mine:
                cell = "" if m is None else f"{m[0]:.2f} ± {m[1]:.2f}"
                if m is not None and m[2] is not None and threads == 1:
                    cell += f" ({m[2]:.2f})"
                row.append(cell)
            cell = "" if peer is None else f"{peer[0]:.2f} / {peer[1]:.2f}"
            if peer is not None and threads == 1:
                cell += f" ({peer[2]:.2f})"
            row.append(cell)
            for m in mine:
                if m is None or peer is None:
                    row.append("")
                    continue
                cell = f"{peer[1] / m[0]:.2f}x"
                if threads == 1 and m[2]:
                    cell += f" ({peer[2] / m[2]:.2f}x)"
                row.append(cell)
            print("| " + " | ".join(row) + " |")
    print()
    print("Milliseconds per call (conv: forward + gradients of input, weight and bias; cnnStep: one Adam step of "
          "benchmarks/train's CNN, batch 64): JMH mean ± 99.9% error of the wall time, and in brackets on one "
          "thread the CPU time per call (Adjoint and DJL: the benchmark thread's; PyTorch: the process's, median "
          "round). Ratios: PyTorch's median wall time over the mean, and PyTorch's CPU time over the CPU time; "
          "above 1.0x the other is faster than PyTorch 1.13.")
    paths = sorted({p[3] for p in peers.values()})
    if paths:
        print("PyTorch 1.13 ran: " + "; ".join(f"{case} ({t} thread{'s' if t > 1 else ''}): {p[3]}"
                                               for (case, t), p in sorted(peers.items())))
    for line in header:
        print(line)
    if len(sys.argv) > 3 and os.path.exists(sys.argv[3]):
        with open(sys.argv[3]) as f:
            for line in f:
                if line.startswith("# commit") or "load average" in line:
                    print(line.strip("# \n"))


if __name__ == "__main__":
    main()
