"""Utilities. Importing this package registers the ``StrictPretrained`` weight
initialiser."""
from .checkpoint import (CheckpointMismatchError, LoadReport, StrictPretrainedInit,
                         extract_backbone_state_dict, load_backbone_checkpoint,
                         save_backbone_state_dict)

__all__ = ['CheckpointMismatchError', 'LoadReport', 'StrictPretrainedInit',
           'extract_backbone_state_dict', 'load_backbone_checkpoint',
           'save_backbone_state_dict']
