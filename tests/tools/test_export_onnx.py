"""tools/export_onnx.py: a Mobile-Former backbone (multi-scale outputs) exported to ONNX
runs in onnxruntime and matches PyTorch."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

pytest.importorskip('onnxruntime', reason='needs the export extra: pip install -e .[export]')
pytest.importorskip('onnxscript', reason='needs the export extra: pip install -e .[export]')

from qbheat_mm.models.backbones import MobileFormer  # noqa: E402
from qbheat_mm.utils.onnx_export import export_onnx, max_abs_differences  # noqa: E402
from tool_loader import load_tool  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY_ARCH = dict(stem_channels=8, num_tokens=2, token_dims=16,
                 blocks=[('lite', 8, 16, 2), ('down', 16, (16, 32), 2),
                         ('down', 16, (32, 32), 2), ('down', 32, (32, 64), 2)])



@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_onnx_matches_pytorch_on_every_output(tmp_path):
    torch.manual_seed(0)
    backbone = MobileFormer(arch=TINY_ARCH, out_indices=(1, 2, 3, 4))
    path = str(tmp_path / 'tiny.onnx')
    assert export_onnx(backbone, path, (1, 3, 64, 64)) == ['out0', 'out1', 'out2', 'out3']
    diffs = max_abs_differences(backbone, path, torch.randn(1, 3, 64, 64))
    assert len(diffs) == 4 and max(diffs) < 1e-4, diffs


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_tool_exports_a_config_backbone_from_a_checkpoint(tmp_path, capsys):
    cfg = Config.fromfile(REPO / 'configs' / 'mobileformer' / 'mobileformer-294m_8xb128_in1k.py')
    cfg.model.backbone.update(arch=TINY_ARCH, out_indices=(2, 4), with_tokens=False)
    cfg.dump(tmp_path / 'tiny.py')
    torch.manual_seed(1)
    weights = MobileFormer(arch=TINY_ARCH, out_indices=(2, 4)).state_dict()
    ckpt = tmp_path / 'backbone.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in weights.items()}}, ckpt)
    out = tmp_path / 'tiny.onnx'
    tool = load_tool('export_onnx.py')
    assert tool.main([str(tmp_path / 'tiny.py'), str(out), '--checkpoint', str(ckpt),
                      '--shape', '64', '64']) == 0
    printed = capsys.readouterr().out
    assert f'loaded {len(weights)}/{len(weights)} backbone keys' in printed
    assert 'out1: max abs difference to PyTorch' in printed
    assert out.is_file() and f'wrote {out}; onnxruntime vs PyTorch' in printed
