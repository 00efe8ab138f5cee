"""Log the k-NN top-1 of the encoder being pre-trained, every N epochs or iterations."""
import time
from typing import Optional, Sequence

import torch
from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop, Runner

from mmpretrain.registry import HOOKS, MODELS
from qbheat_mm.models.utils.knn import extract_features, knn_scores, top1


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """An online representation check: k-NN top-1 of ``model.backbone`` on labelled data.

    Every ``interval`` training epochs (epoch-based loops) or iterations (iteration-based
    loops), before the first iteration and after the last, the current backbone embeds
    ``bank`` and ``query`` (the last map, global-average pooled) in eval mode, and a
    weighted k-NN (cosine, ``k``, ``temperature``) classifies the queries. Logged as
    ``knn/top1`` (to the log and every visualizer backend, so it lands in
    ``vis_data/scalars.json`` and TensorBoard next to the reconstruction metrics) with
    ``knn/seconds``, the cost of the check, and where the run stands: ``knn/images_seen``
    (iterations x batch size x processes) and ``knn/train_minutes`` (wall-clock since the
    first iteration, less the time spent in these checks), so learning curves can be drawn
    against data and against time. Works for any algorithm with a ``backbone``
    (QB-Heat, MoCo-v2, a classifier). In distributed runs rank 0 computes and the others
    wait; the value is broadcast.

    Args:
        bank (dict): Dataloader config of labelled images (e.g. the train split through
            a resize-only pipeline).
        query (dict): Dataloader config of labelled images to classify (e.g. val).
        num_classes (int): Number of classes.
        interval (int): Epochs or iterations between checks. Defaults to 1.
        num_checks (int, optional): Instead of ``interval``: check this many times,
            evenly over the run (the interval becomes max epochs or iterations //
            ``num_checks``), for runs whose length is set at launch.
        k (int): Neighbours. Defaults to 20.
        temperature (float): Vote temperature. Defaults to 0.07.
        mean, std (sequence of float): Input normalisation (RGB, 0-255 scale).
            Default: ImageNet's, as every config here.
        before_train (bool): Also check the initial backbone. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, bank: dict, query: dict, num_classes: int, interval: int = 1,
                 k: int = 20, temperature: float = 0.07,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 before_train: bool = True, num_checks: Optional[int] = None) -> None:
        if interval < 1 or k < 1 or temperature <= 0 or num_classes < 1:
            raise ValueError('interval, k and num_classes must be >= 1 and temperature '
                             f'> 0, got {interval}, {k}, {num_classes}, {temperature}')
        if num_checks is not None and num_checks < 1:
            raise ValueError(f'num_checks must be >= 1 (or None to use interval), got '
                             f'{num_checks}')
        self.bank_cfg, self.query_cfg = bank, query
        self.num_classes, self.interval = num_classes, interval
        self.k, self.temperature = k, temperature
        self.preprocessor = MODELS.build(dict(type='ClsDataPreprocessor', mean=list(mean),
                                              std=list(std), to_rgb=True))
        self.check_before_train = before_train
        self.num_checks = num_checks
        self._loaders: Optional[tuple] = None
        self._last_step = -1
        self._start: Optional[float] = None  # wall-clock of the first iteration
        self._monitor_seconds = 0.  # spent in checks since then

    def before_train(self, runner: Runner) -> None:
        if self.num_checks is not None:
            iter_based = isinstance(runner.train_loop, IterBasedTrainLoop)
            length = runner.max_iters if iter_based else runner.max_epochs
            self.interval = max(1, length // self.num_checks)
        if self.check_before_train:
            self._check(runner, 0)
        self._start, self._monitor_seconds = time.time(), 0.

    def after_train_epoch(self, runner: Runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop) and (
                self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner)):
            self._check(runner, runner.iter)

    def after_train_iter(self, runner: Runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop) and (
                self.every_n_train_iters(runner, self.interval)
                or self.is_last_train_iter(runner)):
            self._check(runner, runner.iter + 1)

    @torch.no_grad()
    def measure(self, backbone: torch.nn.Module) -> float:
        """k-NN top-1 (%) of ``backbone`` on the configured bank and queries."""
        if self._loaders is None:
            self._loaders = (Runner.build_dataloader(self.bank_cfg, seed=0),
                             Runner.build_dataloader(self.query_cfg, seed=0))
        device = next(backbone.parameters()).device
        self.preprocessor.to(device)

        was_training = backbone.training
        backbone.eval()
        try:
            bank = extract_features(backbone, self.preprocessor, self._loaders[0])
            query = extract_features(backbone, self.preprocessor, self._loaders[1])
        finally:
            backbone.train(was_training)
        scores = knn_scores(bank[0], bank[1], query[0], self.num_classes, self.k,
                            self.temperature)
        return top1(scores, query[1])

    @staticmethod
    def _images_per_iter(runner: Runner) -> int:
        """Images one training iteration consumes over all processes."""
        return runner.train_dataloader.batch_size * get_world_size()

    def _check(self, runner: Runner, step: int) -> None:
        if step == self._last_step:  # the last epoch/iteration is also an interval one
            return
        self._last_step = step
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'backbone'):
            raise AttributeError(f'KNNMonitorHook needs a model with a backbone; '
                                 f'{type(model).__name__} has none')
        start = time.time()
        result = [None]
        if is_main_process():
            accuracy = self.measure(model.backbone)
            result = [dict(top1=accuracy, seconds=time.time() - start)]
        broadcast_object_list(result)
        train_minutes = 0. if self._start is None else (
            start - self._start - self._monitor_seconds) / 60
        if self._start is not None:
            self._monitor_seconds += time.time() - start
        values = {'knn/top1': result[0]['top1'], 'knn/seconds': result[0]['seconds'],
                  'knn/images_seen': step * self._images_per_iter(runner),
                  'knn/train_minutes': train_minutes}
        runner.logger.info(f'k-NN monitor at iteration {step}: top-1 {values["knn/top1"]:.2f}'
                           f'% (k={self.k}, T={self.temperature}, '
                           f'{values["knn/seconds"]:.1f} s)')
        runner.visualizer.add_scalars(values, step=step)
        runner.message_hub.update_info('knn/top1', values['knn/top1'])
