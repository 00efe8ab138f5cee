"""Data and helpers shared by several components (no registered modules)."""
