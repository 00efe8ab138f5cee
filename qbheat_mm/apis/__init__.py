"""Public API: reconstruct images with a QB-Heat model and draw the pictures."""
from .reconstruct import predict_reconstructions, reconstruct, reconstruction_arrays
from .reconstruction_panel import draw_reconstruction_panel, save_rgb, stack_panels

__all__ = ['draw_reconstruction_panel', 'predict_reconstructions', 'reconstruct',
           'reconstruction_arrays', 'save_rgb', 'stack_panels']
