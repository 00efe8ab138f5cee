"""Models: importing this package registers every component in ``mmpretrain.registry.MODELS``."""
from . import algorithms, backbones, classifiers, heads, necks  # noqa: F401  (registration)
