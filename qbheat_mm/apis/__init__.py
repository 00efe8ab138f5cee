"""Public API: build a model and load its weights (:func:`init_model`, what every tool
uses), reconstruct images with a QB-Heat model and draw the pictures; our model
index registered in MMPretrain's ``ModelHub`` (``mmpretrain.get_model``, ``list_models``)
and project configs found by name (:func:`config_path`, ``qbheat_mm::DIR/NAME.py``)."""
from .inference import init_model
from .model_zoo import MODEL_INDEX, config_path, register_model_index
from .reconstruct import predict_reconstructions, reconstruct, reconstruction_arrays
from .reconstruction_panel import draw_reconstruction_panel, save_rgb, stack_panels

register_model_index()

__all__ = ['MODEL_INDEX', 'config_path', 'draw_reconstruction_panel', 'init_model',
           'predict_reconstructions', 'reconstruct', 'reconstruction_arrays',
           'register_model_index', 'save_rgb', 'stack_panels']
