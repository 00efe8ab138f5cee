"""Export a config's backbone to ONNX and check it against PyTorch with onnxruntime.

Needs the ``export`` extra (``onnx``, ``onnxscript`` for torch's dynamo exporter,
``onnxruntime``); imported lazily, so the rest of qbheat_mm does not depend on it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ['export_onnx', 'max_abs_differences']


def _as_tuple(outputs) -> tuple[torch.Tensor, ...]:
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs, )


def export_onnx(module: nn.Module, path: str, shape: Sequence[int] = (1, 3, 224, 224)
                ) -> list[str]:
    """Write ``module`` (in eval mode) as ONNX to ``path``; return the output names.

    The inputs are named ``input``, the outputs ``out0`` ... (one per tensor the module
    returns, e.g. one per ``out_indices`` entry of a backbone).
    """
    module = module.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        count = len(_as_tuple(module(x)))
    names = [f'out{i}' for i in range(count)]
    torch.onnx.export(module, (x, ), path, dynamo=True, input_names=['input'],
                      output_names=names, verbose=False)
    return names


def max_abs_differences(module: nn.Module, path: str, inputs: torch.Tensor) -> list[float]:
    """Run ``path`` with onnxruntime (CPU) and ``module`` with PyTorch on ``inputs``;
    return the max absolute difference of each output."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': inputs.numpy()})
    with torch.no_grad():
        expected = _as_tuple(module.eval()(inputs))
    if len(got) != len(expected):
        raise RuntimeError(f'{path} returns {len(got)} outputs, PyTorch {len(expected)}')
    return [float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected)]
