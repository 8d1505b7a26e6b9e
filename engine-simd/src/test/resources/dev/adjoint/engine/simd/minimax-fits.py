#!/usr/bin/env python3
# How the coefficients of FloatErf, DoubleErf, FloatLog and DoubleLog (the X-Erf and X-Log templates)
# were fitted: python3 minimax-fits.py (needs mpmath; a few seconds). Each fit is a weighted minimax
# polynomial found by Lawson's iteration (iteratively
# reweighted least squares) on Chebyshev nodes at 40 digits; the printed error is the largest weighted
# error on the nodes. The Java constants are these values rounded to double, or to float for FLOAT32.
import mpmath as mp

mp.mp.dps = 40


def lawson(basis, f, w, xs, iters=30):
    """Coefficients c minimising max |w(x) (sum_j c_j basis(x)_j - f(x))| over the nodes xs."""
    a = [basis(x) for x in xs]
    fx = [f(x) for x in xs]
    wx = [w(x) for x in xs]
    n = len(a[0])
    lw = [mp.mpf(1) / len(xs)] * len(xs)
    best = None
    for _ in range(iters):
        m = mp.matrix(len(xs), n)
        b = mp.matrix(len(xs), 1)
        for i in range(len(xs)):
            s = mp.sqrt(lw[i]) * wx[i]
            for j in range(n):
                m[i, j] = a[i][j] * s
            b[i] = fx[i] * s
        c, _ = mp.qr_solve(m, b)
        errs = [wx[i] * (mp.fsum(c[j] * a[i][j] for j in range(n)) - fx[i]) for i in range(len(xs))]
        emax = max(abs(e) for e in errs)
        if best is None or emax < best[0]:
            best = (emax, [c[j] for j in range(n)])
        total = mp.fsum(lw[i] * abs(errs[i]) for i in range(len(xs)))
        lw = [lw[i] * abs(errs[i]) / total for i in range(len(xs))]
    return best


def nodes(a, b, n):
    return [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * n)) for k in range(n)]


def show(name, fit):
    err, coefficients = fit
    print("%s: weighted error %s (2^%s), coefficients from the constant term up:"
          % (name, mp.nstr(err, 5), mp.nstr(mp.log(err, 2), 4)))
    for c in coefficients:
        print("    " + mp.nstr(c, 20))


def erf_over_x(z):
    return 2 / mp.sqrt(mp.pi) if z == 0 else mp.erf(mp.sqrt(z)) / mp.sqrt(z)


def g(x):
    return mp.erfc(x) * mp.exp(x * x)


split = mp.mpf("0.875")

# Head: erf(x)/x = P(x^2) on [0, 0.875], relative error. The Java code uses P - 1 (constant term - 1).
for name, degree in (("erf head FLOAT64", 10), ("erf head FLOAT32", 5)):
    show(name, lawson(lambda z: [z ** j for j in range(degree + 1)], erf_over_x, lambda z: 1 / erf_over_x(z),
                      nodes(mp.mpf(0), split ** 2, 150) + [mp.mpf(0)]))

# FLOAT32 tail: G(x) as a polynomial in x - 2.4375 on [0.875, 4], error weighted by erfc(x) / G(x),
# i.e. measured in erf itself.
centre = mp.mpf("2.4375")
show("erf tail FLOAT32", lawson(lambda x: [(x - centre) ** j for j in range(9)], g,
                                lambda x: mp.erfc(x) / g(x), nodes(split, mp.mpf(4), 200)))

# FLOAT64 tail: (x + 2.5) G(x) as a polynomial P(u) in u = 1 / (x + 2.5) on [0.875, 6], so that
# G = u P(u); same weighting.
shift = mp.mpf("2.5")
show("erf tail FLOAT64", lawson(lambda x: [(1 / (x + shift)) ** j for j in range(12)], lambda x: g(x) * (x + shift),
                                lambda x: mp.erfc(x) / (g(x) * (x + shift)), nodes(split, mp.mpf(6), 160), 25))


# log: R(z) = 2 atanh(s)/s - 2 = z Q(z), z = s^2 <= ((sqrt(2) - 1) / (sqrt(2) + 1))^2; absolute error of R.
def q(z):
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) / s - 2) / z


zmax = (3 - 2 * mp.sqrt(2)) ** 2
for name, degree in (("log Q FLOAT64", 6), ("log Q FLOAT32", 2)):
    show(name, lawson(lambda z: [z ** j for j in range(degree + 1)], q, lambda z: z,
                      nodes(mp.mpf(0), zmax, 120) + [mp.mpf(0)]))
