"""Self-supervised algorithms."""
from .qbheat import QBHeat

__all__ = ['QBHeat']
