"""Public API: build a model and load its weights (:func:`init_model`, what every tool
uses), reconstruct images with a QB-Heat model and draw the pictures; our model
index registered in MMPretrain's ``ModelHub`` (``mmpretrain.get_model``, ``list_models``)."""
from .inference import init_model
from .model_zoo import MODEL_INDEX, register_model_index
from .reconstruct import predict_reconstructions, reconstruct, reconstruction_arrays
from .reconstruction_panel import draw_reconstruction_panel, save_rgb, stack_panels

register_model_index()

__all__ = ['MODEL_INDEX', 'draw_reconstruction_panel', 'init_model', 'predict_reconstructions',
           'reconstruct', 'reconstruction_arrays', 'register_model_index', 'save_rgb',
           'stack_panels']
