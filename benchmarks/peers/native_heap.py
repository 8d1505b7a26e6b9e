"""glibc malloc settings for the PyTorch peers: keep the memory a step frees for the next step.

By default glibc maps each large block afresh and unmaps it on free, and returns the top of its heap
to the kernel, with thresholds that move with the process's history; a PyTorch training step then
faults its activations and gradients in page by page on some calls and in some processes and not
others (on a VM guest each fault is expensive), and its figures vary by up to 4x. The report sets the
same two variables for every process it starts (benchmarks/.../report/NativeHeap.java, where the
figures are); `keep_freed_memory()` gives a script run by hand the same, by starting it again with
them set where the environment leaves them unset. glibc reads them at its first allocation, so
setting them inside a running interpreter is too late.
"""
import os
import sys

SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),  # glibc's largest: blocks up to 32 MiB come from the heap
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),   # and freed memory stays in it
}


def keep_freed_memory():
    """Re-executes this script with SETTINGS added to the environment, unless every one is already set."""
    missing = {name: value for name, value in SETTINGS.items() if name not in os.environ}
    if not missing:
        return
    env = dict(os.environ)
    env.update(missing)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
