"""Necks: the heat-extrapolation neck and the QB-Heat pixel decoder."""
from .heat_extrapolation_neck import HeatExtrapolationNeck, heat_extrapolate
from .qbheat_decoder import QBHeatDecoder

__all__ = ['HeatExtrapolationNeck', 'QBHeatDecoder', 'heat_extrapolate']
