"""Utilities. Importing this package registers the ``StrictPretrained`` weight initialiser
and the ``EpochSeedHook``."""
from .checkpoint import (CheckpointMismatchError, LoadReport, StrictPretrainedInit,
                         extract_backbone_state_dict, load_backbone_checkpoint,
                         save_backbone_state_dict)
from .epoch_seed_hook import EpochSeedHook, epoch_seed

__all__ = ['CheckpointMismatchError', 'EpochSeedHook', 'LoadReport', 'StrictPretrainedInit',
           'epoch_seed', 'extract_backbone_state_dict', 'load_backbone_checkpoint',
           'save_backbone_state_dict']
