#!/usr/bin/env python3
# Run in this folder: python3 erf-reference.py (needs mpmath).
# Reference values of erf for VectorErfTest: x (a double, shortest round-trip form) and erf(x) to 25
# significant digits from mpmath at 40 digits.
import mpmath as mp, random
mp.mp.dps = 40
random.seed(11)
xs = set()
for i in range(4000):                      # uniform over [0, 6.5], past the clamp at 6
    xs.add(6.5 * i / 4000)
for i in range(2000):
    xs.add(random.uniform(0, 6.5))
for i in range(1000):                      # dense around the split at 0.875
    xs.add(random.uniform(0.8, 0.95))
for i in range(1000):                      # log-uniform small arguments, where erf(x) ~ 2x/sqrt(pi)
    xs.add(10 ** random.uniform(-310, 0))
out = ["# x erf(x): mpmath 40 digits, written by erf-reference.py"]
for x in sorted(xs):
    out.append("%r %s" % (x, mp.nstr(mp.erf(mp.mpf(x)), 25, min_fixed=-1, max_fixed=1) if x else "0"))
open('erf-reference.txt', 'w').write("\n".join(out)+"\n")
