"""The heat-extrapolation neck of QB-Heat: predicts three masked quarters from one."""
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmpretrain.registry import MODELS

MODES = ('block', 'recursive', 'finola', 'free')
#: The modes with a heat operator; ``free`` is the control without one.
HEAT_MODES = ('block', 'recursive', 'finola')
DIAGONALS = ('ab', 'ba', 'mean')


def check_mode(mode: str, diagonal: str = 'ab') -> None:
    """Raise a ``ValueError`` naming the choices unless ``mode`` and ``diagonal`` are known."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if diagonal not in DIAGONALS:
        raise ValueError(f'diagonal must be one of {DIAGONALS}, got {diagonal!r}')


def _mat(M: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Apply the C x C matrix ``M`` to the channel axis (dim 1) of ``x``."""
    return torch.einsum('dc,nc...->nd...', M, x)


def _layer_norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per-position normalisation over channels (dim 1), without affine parameters."""
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


def _march(start: torch.Tensor, M: torch.Tensor, steps: int, finola: bool,
           dim: int) -> torch.Tensor:
    """Take ``steps`` unit steps from ``start`` and stack the results along ``dim``.

    Each step is ``s <- s + M s`` (``recursive``) or ``s <- s + M LN(s)`` (``finola``), so
    the k-th stacked slice (0-based) is the (k + 1)-th power of the step applied to
    ``start``. Only the border moves: the loop runs over steps, not over cells.
    """
    out = []
    s = start
    for _ in range(steps):
        s = s + _mat(M, _layer_norm(s) if finola else s)
        out.append(s)
    return torch.stack(out, dim=dim)


def heat_extrapolate(z: torch.Tensor,
                     A: torch.Tensor,
                     B: torch.Tensor,
                     mode: str = 'block',
                     diagonal: str = 'ab',
                     D: Optional[torch.Tensor] = None) -> torch.Tensor:
    r"""Extrapolate the encoded visible quarter to the full feature map.

    The visible quarter ``z`` (N x C x h x w) becomes the top-left quarter of the
    returned map F (N x C x 2h x 2w). The other quarters follow the first-order heat
    equation of QB-Heat [paper], dz/dx = A z and dz/dy = B z, discretised by finite
    differences, z(x + dx, y) = (I + dx A) z(x, y) and z(x, y + dy) = (I + dy B) z(x, y):

    ``block`` (the paper's figure: one step whose size is a whole quarter, dx and dy
    absorbed into A and B); for every visible cell z = z[:, :, i, j]:

        right    = (I + A) z
        bottom   = (I + B) z
        diagonal = (I + B)(I + A) z          (``diagonal='ab'``, default)
                 = (I + A)(I + B) z          (``diagonal='ba'``)
                 = mean of the two above     (``diagonal='mean'``)

    ``recursive`` (unit steps of one cell, starting from the visible quarter's border;
    i, j are 0-based cell indices inside the predicted quarter):

        right[i, j]    = (I + A)^(j + 1) z[i, w - 1]
        bottom[i, j]   = (I + B)^(i + 1) z[h - 1, j]
        diagonal[i, j] = (I + B)^(i + 1) right[h - 1, j]

    ``finola`` (the authors' follow-up, arXiv 2305.16319): as ``recursive``, but each
    unit step is z <- z + A LN(z) (or z + B LN(z)), LN normalising each position over
    channels without affine parameters. ``diagonal`` only affects ``block``.

    ``free`` (a control, not the heat equation [ours]): three independent projections,
    right = (I + A) z, bottom = (I + B) z, diagonal = (I + D) z. Block mode differs only
    in tying D to (I + B)(I + A) - I; with the default decoder (its first Linear narrower
    than half the channels) that tie constrains nothing (docs/en/method.md, "When the
    heat operator binds"), so the two must train alike there.

    Args:
        z (torch.Tensor): Encoded visible quarter, N x C x h x w.
        A (torch.Tensor): Horizontal operator, C x C.
        B (torch.Tensor): Vertical operator, C x C.
        mode (str): ``'block'``, ``'recursive'``, ``'finola'`` or ``'free'``.
        diagonal (str): ``'ab'``, ``'ba'`` or ``'mean'`` (``block`` only).
        D (torch.Tensor, optional): The diagonal quarter's own projection, C x C
            (``free`` only, where it is required).

    Returns:
        torch.Tensor: The full map, N x C x 2h x 2w, whose top-left quarter is ``z``.
    """
    check_mode(mode, diagonal)
    if z.dim() != 4:
        raise ValueError(f'z must be N x C x h x w, got shape {tuple(z.shape)}')
    C, h, w = z.shape[1:]
    if A.shape != (C, C) or B.shape != (C, C):
        raise ValueError(f'A and B must be {C} x {C} for {C} channels, got '
                         f'{tuple(A.shape)} and {tuple(B.shape)}')
    if (mode == 'free') != (D is not None):
        raise ValueError("D is the diagonal projection of mode='free' and of no other mode: "
                         f'got mode={mode!r} with D {"given" if D is not None else "missing"}')
    if D is not None and D.shape != (C, C):
        raise ValueError(f'D must be {C} x {C} for {C} channels, got {tuple(D.shape)}')

    if mode == 'free':
        right, bottom, diag = z + _mat(A, z), z + _mat(B, z), z + _mat(D, z)
    elif mode == 'block':
        right = z + _mat(A, z)
        bottom = z + _mat(B, z)
        if diagonal == 'ab':
            diag = right + _mat(B, right)
        elif diagonal == 'ba':
            diag = bottom + _mat(A, bottom)
        else:
            diag = 0.5 * (right + _mat(B, right) + bottom + _mat(A, bottom))
    else:
        finola = mode == 'finola'
        # Right quarter: march the last visible column (N x C x h) w steps to the right.
        right = _march(z[:, :, :, w - 1], A, w, finola, dim=3)
        # Bottom quarter: march the last visible row (N x C x w) h steps down.
        bottom = _march(z[:, :, h - 1, :], B, h, finola, dim=2)
        # Diagonal quarter: march the right quarter's last row h steps down.
        diag = _march(right[:, :, h - 1, :], B, h, finola, dim=2)

    top_row = torch.cat([z, right], dim=3)
    bottom_row = torch.cat([bottom, diag], dim=3)
    return torch.cat([top_row, bottom_row], dim=2)


@MODELS.register_module()
class HeatExtrapolationNeck(BaseModule):
    """Predict the three masked quarters' features from the encoded visible quarter.

    Learnable A and B (C' x C', zero-initialised [ours], so the untrained neck copies
    the visible quarter into the other three) and the operator of
    :func:`heat_extrapolate`. An optional 1 x 1 projection C -> C' runs first; it is off
    by default [ours] so the heat constraint acts on the encoder's own features.

    Args:
        in_channels (int): Channels C of the encoder output.
        proj_channels (int, optional): Channels C' of the optional 1 x 1 projection;
            None (default) disables it, so C' = C.
        mode (str): ``'block'`` (default, [paper]), ``'recursive'``, ``'finola'``, or
            ``'free'``: three independent per-quarter projections (A, B and a third, D),
            the control that has no heat prior at all (see :func:`heat_extrapolate`).
        diagonal (str, optional): Diagonal quarter of ``block``: ``'ab'`` (the default,
            None), ``'ba'`` or ``'mean'``. Refused by the other modes, which have no
            diagonal rule.
        freeze_operator (bool): Keep A and B (and ``free``'s D) fixed at their zero init
            (no gradient), so the neck only copies the visible features into the masked
            quarters: the control that says whether the learned heat operator helps.
            Defaults to False.
        init_cfg (dict, optional): Initialisation config of the projection.
    """

    def __init__(self,
                 in_channels: int,
                 proj_channels: Optional[int] = None,
                 mode: str = 'block',
                 diagonal: Optional[str] = None,
                 freeze_operator: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_mode(mode)
        if diagonal is None:
            diagonal = 'ab'
        elif mode != 'block':
            raise ValueError(f'diagonal={diagonal!r} does nothing in mode={mode!r}: only '
                             "'block' has a diagonal rule; leave diagonal out")
        check_mode(mode, diagonal)
        self.in_channels = in_channels
        self.out_channels = proj_channels or in_channels
        self.mode = mode
        self.diagonal = diagonal
        self.proj = (nn.Conv2d(in_channels, proj_channels, kernel_size=1)
                     if proj_channels else None)
        self.A = nn.Parameter(torch.zeros(self.out_channels, self.out_channels))
        self.B = nn.Parameter(torch.zeros(self.out_channels, self.out_channels))
        self.freeze_operator = freeze_operator
        self.A.requires_grad_(not freeze_operator)
        self.B.requires_grad_(not freeze_operator)
        self.D = (nn.Parameter(torch.zeros(self.out_channels, self.out_channels),
                               requires_grad=not freeze_operator)
                  if mode == 'free' else None)

    def forward(self, z: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """Extrapolate the visible quarter.

        Args:
            z (torch.Tensor | tuple[torch.Tensor]): N x C x h x w, or a backbone's
                output tuple whose last element is that map.

        Returns:
            torch.Tensor: N x C' x 2h x 2w; the top-left quarter is (projected) ``z``.
        """
        if isinstance(z, (tuple, list)):
            z = z[-1]
        if z.dim() != 4 or z.shape[1] != self.in_channels:
            raise ValueError(f'HeatExtrapolationNeck expects N x {self.in_channels} x h x w '
                             f'features, got shape {tuple(z.shape)}')
        if self.proj is not None:
            z = self.proj(z)
        return heat_extrapolate(z, self.A, self.B, self.mode, self.diagonal, self.D)

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, out_channels={self.out_channels}, '
                f'mode={self.mode!r}, diagonal={self.diagonal!r}, '
                f'freeze_operator={self.freeze_operator}')

