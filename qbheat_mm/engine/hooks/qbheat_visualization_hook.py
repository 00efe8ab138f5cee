"""Write QB-Heat reconstruction pictures of fixed validation images during training."""
import os
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS
from qbheat_mm.apis.reconstruct import predict_reconstructions, reconstruction_arrays
from qbheat_mm.apis.reconstruction_panel import (draw_reconstruction_panel, save_rgb,
                                                 stack_panels)


@HOOKS.register_module()
class QBHeatVisualizationHook(Hook):
    """Every ``interval`` iterations, draw reconstructions of fixed validation images.

    The picture (one five-panel row per image, see :func:`draw_reconstruction_panel`)
    is written to ``work_dir/<out_dir>/iter_<N>.png`` and sent to the visualizer's
    backends (TensorBoard when configured) as image ``'reconstruction'``. It is also
    drawn before the first iteration (the untrained model) and at the end of training.
    Images come from the validation dataset, evenly spaced over it and loaded once;
    without a validation loop they come from the training dataset (through its random
    augmentation, loaded once too).

    Args:
        interval (int): Iterations between pictures. Defaults to 500.
        num_images (int): Number of images (rows). Defaults to 4.
        out_dir (str): Folder under the work dir. Defaults to ``'reconstructions'``.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, num_images: int = 4,
                 out_dir: str = 'reconstructions') -> None:
        if interval < 1 or num_images < 1:
            raise ValueError(f'interval and num_images must be >= 1, got {interval} and '
                             f'{num_images}')
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir
        self._inputs: Optional[torch.Tensor] = None
        self._last_step = -1

    def _fixed_inputs(self, runner) -> torch.Tensor:
        """The chosen images as an N x 3 x H x W uint8 batch, loaded once."""
        if self._inputs is None:
            loader = runner.val_dataloader if runner.val_loop is not None \
                else runner.train_dataloader
            dataset = loader.dataset
            n = min(self.num_images, len(dataset))
            indices = np.linspace(0, len(dataset) - 1, n).round().astype(int)
            self._inputs = torch.stack([dataset[int(i)]['inputs'] for i in indices])
        return self._inputs

    def draw(self, runner, step: int) -> None:
        """Draw and write the picture for training step ``step``."""
        if step == self._last_step or not is_main_process():
            return
        self._last_step = step
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        samples = predict_reconstructions(model, self._fixed_inputs(runner))
        picture = stack_panels(
            [draw_reconstruction_panel(reconstruction_arrays(s)) for s in samples])
        folder = osp.join(runner.work_dir, self.out_dir)
        os.makedirs(folder, exist_ok=True)
        save_rgb(osp.join(folder, f'iter_{step:06d}.png'), picture)
        runner.visualizer.add_image('reconstruction', picture, step=step)

    def before_train(self, runner) -> None:
        self.draw(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self.draw(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        self.draw(runner, runner.iter)
