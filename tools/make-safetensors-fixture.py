#!/usr/bin/env python3
"""Writes nn/src/test/resources/safetensors/from-python.safetensors with the reference safetensors
library, so the tests check that Checkpoint reads what other tools write (CheckpointTest).

    python3 -m venv /tmp/st && /tmp/st/bin/pip install safetensors numpy
    /tmp/st/bin/python tools/make-safetensors-fixture.py

The values are fixed and spelled out in CheckpointTest.readsAFileWrittenByTheReferenceLibrary.
"""
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.normpath(os.path.join(here, "..", "nn", "src", "test", "resources", "safetensors",
                                    "from-python.safetensors"))
os.makedirs(os.path.dirname(out), exist_ok=True)
save_file(
    {
        "model.0.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "model.0.bias": np.array([1.5, -0.0], dtype=np.float64),
        "optimizer.step": np.array(7.0, dtype=np.float64),
        "optimizer.index": np.array([3, -4, 2**40], dtype=np.int64),
    },
    out,
    metadata={"format": "adjoint-checkpoint", "format_version": "1"},
)
print(out)
