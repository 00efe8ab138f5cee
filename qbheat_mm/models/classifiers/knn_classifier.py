"""A k-NN classifier on a frozen backbone, for any MMPretrain test or validation loop."""
from typing import List, Optional

import torch
from mmengine.dist import all_gather_object, get_world_size
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from qbheat_mm.models.utils.knn import extract_features, knn_scores, pooled


@MODELS.register_module()
class KNNClassifier(BaseModel):
    """Classify each image by a weighted vote of its k nearest labelled bank images.

    The backbone's last map is global-average pooled; the bank (``bank``: a dataloader
    config of labelled images, normally the training split through the test pipeline)
    is embedded on the first prediction and kept. Predictions carry ``pred_score`` and
    ``pred_label``, so MMPretrain's ``Accuracy`` scores them like any classifier: turning
    a probe config into a k-NN evaluation means replacing its ``model`` with this one and
    nothing else. There is nothing to train (``mode='loss'`` raises). MMEngine's test loop
    does not initialise models, so predicting before ``init_weights()`` raises instead of
    using a random backbone (``tools/analysis/knn_eval.py`` initialises it). In a
    distributed test the bank is embedded in shards and gathered on every rank.

    Args:
        backbone (dict): Backbone config, e.g. a frozen ``MobileFormer`` with a
            ``StrictPretrained`` ``init_cfg``.
        bank (dict): Dataloader config of the labelled bank.
        num_classes (int): Number of classes.
        k (int): Neighbours. Defaults to 20.
        temperature (float): Vote temperature. Defaults to 0.07.
        data_preprocessor (dict, optional): Defaults to ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 bank: dict,
                 num_classes: int,
                 k: int = 20,
                 temperature: float = 0.07,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ClsDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if k < 1 or temperature <= 0 or num_classes < 1:
            raise ValueError('k and num_classes must be >= 1 and temperature > 0, got '
                             f'{k}, {num_classes}, {temperature}')
        self.backbone = MODELS.build(backbone)
        self.bank_cfg = bank
        self.num_classes = num_classes
        self.k = k
        self.temperature = temperature
        self._bank: Optional[tuple] = None

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, D) pooled features of preprocessed ``inputs``."""
        return pooled(self.backbone(inputs))

    @torch.no_grad()
    def build_bank(self) -> tuple:
        """Embed the bank once (all ranks' shards gathered); returns (feats, labels)."""
        if not self.is_init:
            # MMEngine's test loop never calls init_weights: without this check the
            # backbone's StrictPretrained checkpoint would silently not be loaded.
            raise RuntimeError(
                'KNNClassifier.init_weights() was not called, so the backbone init_cfg '
                f'{self.backbone.init_cfg} was not applied and the backbone is random. '
                'Run the k-NN with tools/analysis/knn_eval.py (which initialises the '
                'model), or call model.init_weights() first.')
        if self._bank is None:
            was_training = self.training
            self.eval()
            loader = Runner.build_dataloader(self.bank_cfg)
            feats, labels = extract_features(self.backbone, self.data_preprocessor, loader)
            if get_world_size() > 1:
                parts = all_gather_object((feats, labels))
                feats = torch.cat([p[0] for p in parts])
                labels = torch.cat([p[1] for p in parts])
            self._bank = (feats, labels)
            self.train(was_training)
        return self._bank

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.embed(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'KNNClassifier has nothing to train (mode={mode!r}); run it '
                           'in a test or validation loop (tools/analysis/knn_eval.py)')

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None) -> List[DataSample]:
        bank_feats, bank_labels = self.build_bank()
        scores = knn_scores(bank_feats, bank_labels, self.embed(inputs).cpu(),
                            self.num_classes, self.k, self.temperature)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(scores))]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score).set_pred_label(score.argmax(keepdim=True))
        return data_samples
