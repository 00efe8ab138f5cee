"""tools/visualize_reconstruction.py writes one five-panel PNG per image."""
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'


def load_visualize_tool():
    return load_tool('visualize_reconstruction.py')


def test_tool_writes_one_png_per_image(tmp_path):
    init_default_scope('mmpretrain')
    model = MODELS.build(Config.fromfile(str(TINY_CONFIG)).model)
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    rng = np.random.default_rng(0)
    images = []
    for name, (h, w) in [('wide', (90, 150)), ('tall', (200, 70))]:
        path = tmp_path / f'{name}.jpg'
        cv2.imwrite(str(path), rng.integers(0, 255, (h, w, 3)).astype(np.uint8))
        images.append(str(path))

    tool = load_visualize_tool()
    assert tool.config_img_size(Config.fromfile(str(TINY_CONFIG))) == 64
    out_dir = tmp_path / 'out'
    written = tool.main([str(TINY_CONFIG), str(ckpt), *images, '--out-dir', str(out_dir)])
    assert [Path(p).name for p in written] == ['wide.png', 'tall.png']
    for path in written:
        # 64 px input from the config: a 16 px title band, five 64 px panels 4 px apart
        assert cv2.imread(path).shape == (16 + 64, 5 * 64 + 4 * 4, 3)
    written = tool.main([str(TINY_CONFIG), str(ckpt), images[0], '--out-dir', str(out_dir),
                         '--img-size', '128'])
    assert cv2.imread(written[0]).shape == (16 + 128, 5 * 128 + 4 * 4, 3)


def test_output_names_never_collide():
    tool = load_visualize_tool()
    taken = set()
    names = [tool.output_name(p, taken) for p in ['a/x.png', 'b/x.jpg', 'b/x.png', 'y.png']]
    assert names == ['x.png', 'b_x.png', 'b_x_1.png', 'y.png']
