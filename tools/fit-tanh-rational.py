#!/usr/bin/env python3
"""Fits the rational fast path of engine-simd's tanh (FloatExp, DoubleExp, from the X-Exp template):
tanh(x) / x = P(t) / Q(t), t = x^2,
on |x| <= X, with P(0) = Q(0) = 1, near-minimax in relative error.

    python3 tools/fit-tanh-rational.py 3 3 3 f        # FLOAT32: degree (3, 3) in t on |x| <= 3, 200 points
    python3 tools/fit-tanh-rational.py 5 5 3.5 d 300  # FLOAT64: degree (5, 5) on |x| <= 3.5, 300 points

Why this way:
- tanh is odd, so x P(x^2) / Q(x^2) is odd for any coefficients and negative x need no handling.
- P(0) = Q(0) = 1 makes tiny x come out as x exactly (the kernel sums the numerator as x + x^3 P'
  and the denominator as 1 + x^2 Q', so neither 1 is rounded on its own).
- The fit is Loeb's linearised least squares with Lawson's weights (each iteration reweights the
  points by their error), in 50-digit mpmath against mpmath's tanh on Chebyshev-spaced points; it
  converges to near the minimax rational on those points.
- Rounding the coefficients all at once to float or double costs more accuracy than the fit has, so
  they are rounded one at a time, highest degree first, and the rest refitted after each: the final
  error printed is that of the rounded coefficients, in exact arithmetic.
Needs numpy and mpmath. Takes about a minute.
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 50


def tanh_over_x(t):
    if t == 0:
        return mp.mpf(1)
    s = mp.sqrt(t)
    return mp.tanh(s) / s


def fit(n, m, ts, fs, fixed, iterations=40):
    """Coefficients p[0..n], q[0..m] (p[0] = q[0] = 1, the ones in fixed held) and the max relative error."""
    count = len(ts)
    weights = [mp.mpf(1) / count] * count
    q_previous = [mp.mpf(1)] * count
    free = [('p', k) for k in range(1, n + 1) if ('p', k) not in fixed] \
        + [('q', k) for k in range(1, m + 1) if ('q', k) not in fixed]
    best = None
    for _ in range(iterations):
        # Minimise sum weight * ((P - f Q) / (f Q_previous))^2: linear in the free coefficients.
        rows, rhs = [], []
        for t, f, qp, w in zip(ts, fs, q_previous, weights):
            scale = mp.sqrt(w) / (f * qp)
            rows.append([scale * t ** k if c == 'p' else -scale * f * t ** k for c, k in free])
            right = -(1 - f)
            for (c, k), v in fixed.items():
                right -= v * t ** k if c == 'p' else -f * v * t ** k
            rhs.append(scale * right)
        solution = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))[0] if free else []
        p = [mp.mpf(1)] + [mp.mpf(0)] * n
        q = [mp.mpf(1)] + [mp.mpf(0)] * m
        for (c, k), v in fixed.items():
            (p if c == 'p' else q)[k] = v
        for i, (c, k) in enumerate(free):
            (p if c == 'p' else q)[k] = solution[i]
        errors, q_values = [], []
        for t, f in zip(ts, fs):
            pv, qv = mp.polyval(p[::-1], t), mp.polyval(q[::-1], t)
            q_values.append(qv)
            errors.append((pv / qv - f) / f)
        worst = max(abs(e) for e in errors)
        if best is None or worst < best[0]:
            best = (worst, p[:], q[:])
        q_previous = q_values
        total = sum(w * abs(e) for w, e in zip(weights, errors))
        if total == 0:
            break
        weights = [w * abs(e) / total for w, e in zip(weights, errors)]
    return best


def main():
    n, m, limit, kind = int(sys.argv[1]), int(sys.argv[2]), mp.mpf(sys.argv[3]), sys.argv[4]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    xs = [limit * (1 - mp.cos(mp.pi * (i + 0.5) / count)) / 2 for i in range(count)]
    ts = [x * x for x in xs]
    fs = [tanh_over_x(t) for t in ts]
    rounded = (lambda v: mp.mpf(float(np.float32(float(v))))) if kind == 'f' else (lambda v: mp.mpf(float(v)))
    fixed = {}
    worst, p, q = fit(n, m, ts, fs, fixed)
    print(f"// degree ({n}, {m}) on |x| <= {limit}: max relative error {mp.nstr(worst, 4)}")
    for k in range(max(n, m), 0, -1):
        for c, degree in (('q', m), ('p', n)):
            if k <= degree:
                fixed[(c, k)] = rounded((q if c == 'q' else p)[k])
                worst, p, q = fit(n, m, ts, fs, fixed)
    suffix = 'f' if kind == 'f' else ''
    print(f"// coefficients rounded to {'float' if kind == 'f' else 'double'}: max relative error {mp.nstr(worst, 4)}")
    print("P:", ", ".join(repr(float(c)) + suffix for c in p))
    print("Q:", ", ".join(repr(float(c)) + suffix for c in q))


if __name__ == '__main__':
    main()
