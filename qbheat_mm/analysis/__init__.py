"""Analyses of trained models. Import the submodule you need; nothing runs on import."""
