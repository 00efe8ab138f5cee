"""Public API: reconstruct images with a QB-Heat model and draw the pictures; our model
index registered in MMPretrain's ``ModelHub`` (``mmpretrain.get_model``, ``list_models``)."""
from .model_zoo import MODEL_INDEX, register_model_index
from .reconstruct import predict_reconstructions, reconstruct, reconstruction_arrays
from .reconstruction_panel import draw_reconstruction_panel, save_rgb, stack_panels

register_model_index()

__all__ = ['MODEL_INDEX', 'draw_reconstruction_panel', 'predict_reconstructions',
           'reconstruct', 'reconstruction_arrays', 'register_model_index', 'save_rgb',
           'stack_panels']
