"""MMDetection-only components; detection configs import ``qbheat_mm.det`` explicitly."""
__all__: list[str] = []
