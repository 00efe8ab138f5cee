"""Building blocks of Mobile-Former (Chen et al., CVPR 2022, arXiv 2108.05895).

Layouts: feature maps are ``N x C x H x W``; the global tokens are ``N x T x d``.
Every block takes and returns the pair ``(x, tokens)`` so that a stage is a plain loop.

The activations of the paper are PyTorch built-ins: ``h_sigmoid(x) = ReLU6(x + 3) / 6`` is
:func:`torch.nn.functional.hardsigmoid` and ``h_swish(x) = x * h_sigmoid(x)`` is
:func:`torch.nn.functional.hardswish`.

The attention here is written with explicit matmuls (not ``nn.MultiheadAttention`` and not
``scaled_dot_product_attention``) because Mobile-Former projects only the query side: keys
and values are the feature map or the tokens themselves. Keeping the matmuls visible also
lets FLOP counters see them.

Channel shuffles (26M only, ``groups > 1``) sit where the reference code puts them: after
the BN of the first and last 1x1 conv of an MF block, after the BN of each channel-expanding
depthwise conv (shuffled with ``groups = its input channels``, which interleaves the copies
of each input channel) and before the final 1x1 expansion conv.
"""
from abc import ABCMeta, abstractmethod
from collections import OrderedDict

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch import nn


def conv_bn(in_channels: int,
            out_channels: int,
            kernel_size: int,
            stride: int = 1,
            groups: int = 1,
            shuffle_groups: int = 1) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm [-> channel shuffle].

    3x3 convs pad 1, so a stride-2 step maps a size ``s`` to ``ceil(s / 2)`` (97 -> 49).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): 1 or 3.
        stride (int): Conv stride. Defaults to 1.
        groups (int): Conv groups (``in_channels`` for the depthwise convs). Defaults to 1.
        shuffle_groups (int): Channel-shuffle groups after the BN; 1 means no shuffle.
            Defaults to 1.
    """
    layers = OrderedDict(
        conv=nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False),
        bn=nn.BatchNorm2d(out_channels))
    if shuffle_groups > 1:
        layers['shuffle'] = ChannelShuffle(shuffle_groups)
    return nn.Sequential(layers)


class ChannelShuffle(nn.Module):
    """ShuffleNet channel shuffle: ``(g, C/g)`` channel layout -> ``(C/g, g)``.

    Args:
        groups (int): Number of groups; must divide the channel count.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2)
        return x.reshape(n, c, h, w)


class DyReLU(nn.Module):
    """Dynamic ReLU with two slopes per channel and no intercepts, driven by token 0.

    ``s = h_sigmoid(MLP(token_0))`` gives ``(s1, s2)``; ``a1 = 1 + 2 (s1 - 0.5)`` in [0, 2],
    ``a2 = 2 (s2 - 0.5)`` in [-1, 1] and ``y = max(a1 x, a2 x)`` per channel, constant over
    space. With the reference init (small Linear weights, zero bias) ``s1 = s2 = 0.5``, so
    the layer starts as a plain ReLU.

    Args:
        channels (int): Channels of the map it activates.
        token_dims (int): Token dimension ``d``.
        reduction (int): The MLP's hidden width is ``d // reduction``. Defaults to 4.
    """

    def __init__(self, channels: int, token_dims: int, reduction: int = 4) -> None:
        super().__init__()
        self.channels = channels
        self.mlp = nn.Sequential(
            nn.Linear(token_dims, token_dims // reduction), nn.ReLU(inplace=True),
            nn.Linear(token_dims // reduction, 2 * channels))

    def slopes(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample, per-channel slopes ``(a1, a2)``, each ``N x C x 1 x 1``."""
        s = F.hardsigmoid(self.mlp(tokens[:, 0]))
        s1, s2 = s.view(-1, 2, self.channels, 1, 1).unbind(1)
        return 2 * s1, 2 * s2 - 1

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        a1, a2 = self.slopes(tokens)
        return torch.maximum(x * a1, x * a2)


class MobileToFormer(nn.Module):
    """Mobile -> Former bridge: the tokens attend to the pixels of the map.

    Only the query is projected (``Linear(d -> C)``); keys = values = the map, split into
    ``num_heads`` contiguous channel groups. The attended values are gated by
    ``2 * h_sigmoid(Linear(d -> C)(tokens))`` (1 at init), projected back to ``d`` and added
    to the tokens, followed by a post-LayerNorm.

    Args:
        channels (int): Channels ``C`` of the map read by the bridge.
        token_dims (int): Token dimension ``d``.
        num_heads (int): Attention heads. Defaults to 2.
        drop_path (float): Drop-path rate of the token update. Defaults to 0.
    """

    def __init__(self,
                 channels: int,
                 token_dims: int,
                 num_heads: int = 2,
                 drop_path: float = 0.) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (channels // num_heads)**-0.5
        self.q = nn.Linear(token_dims, channels)
        self.gate = nn.Linear(token_dims, channels)
        self.proj = nn.Linear(channels, token_dims)
        self.norm = nn.LayerNorm(token_dims)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        t = tokens.shape[1]
        q = self.q(tokens).view(n, t, self.num_heads, -1).transpose(1, 2)
        kv = x.reshape(n, self.num_heads, c // self.num_heads, h * w)
        attn = (q @ kv * self.scale).softmax(dim=-1)  # N x heads x T x HW
        out = (attn @ kv.transpose(-1, -2)).transpose(1, 2).reshape(n, t, c)
        out = out * (2 * F.hardsigmoid(self.gate(tokens)))
        return self.norm(tokens + self.drop_path(self.proj(out)))


class Former(nn.Module):
    """Transformer block on the tokens: query-only attention and a post-LN FFN.

    Keys = values = the tokens themselves (no K/V projections, unlike
    ``nn.MultiheadAttention``); the attention output goes through ``Linear(d -> d)``.

    Args:
        token_dims (int): Token dimension ``d``.
        num_heads (int): Attention heads. Defaults to 4.
        ffn_ratio (int): FFN hidden width is ``ffn_ratio * d``. Defaults to 2.
        drop_path (float): Drop-path rate of the attention update (the reference applies
            none to the FFN). Defaults to 0.
    """

    def __init__(self,
                 token_dims: int,
                 num_heads: int = 4,
                 ffn_ratio: int = 2,
                 drop_path: float = 0.) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (token_dims // num_heads)**-0.5
        self.q = nn.Linear(token_dims, token_dims)
        self.proj = nn.Linear(token_dims, token_dims)
        self.norm1 = nn.LayerNorm(token_dims)
        self.ffn = nn.Sequential(
            nn.Linear(token_dims, ffn_ratio * token_dims), nn.GELU(),
            nn.Linear(ffn_ratio * token_dims, token_dims))
        self.norm2 = nn.LayerNorm(token_dims)
        self.drop_path = DropPath(drop_path)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        n, t, d = tokens.shape
        q = self.q(tokens).view(n, t, self.num_heads, -1).transpose(1, 2)
        kv = tokens.view(n, t, self.num_heads, -1).transpose(1, 2)
        attn = (q @ kv.transpose(-1, -2) * self.scale).softmax(dim=-1)  # N x heads x T x T
        out = (attn @ kv).transpose(1, 2).reshape(n, t, d)
        tokens = self.norm1(tokens + self.drop_path(self.proj(out)))
        return self.norm2(tokens + self.ffn(tokens))


class FormerToMobile(nn.Module):
    """Former -> Mobile bridge: every pixel attends to the tokens; the result is added.

    Queries are the map itself (``num_heads`` contiguous channel groups, no projection);
    keys and values are ``Linear(d -> C)`` of the tokens. No output projection, no norm.

    Args:
        channels (int): Channels ``C`` of the map.
        token_dims (int): Token dimension ``d``.
        num_heads (int): Attention heads. Defaults to 2.
        drop_path (float): Drop-path rate of the map update. Defaults to 0.
    """

    def __init__(self,
                 channels: int,
                 token_dims: int,
                 num_heads: int = 2,
                 drop_path: float = 0.) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (channels // num_heads)**-0.5
        self.k = nn.Linear(token_dims, channels)
        self.v = nn.Linear(token_dims, channels)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        t = tokens.shape[1]
        q = x.reshape(n, self.num_heads, c // self.num_heads, h * w).transpose(-1, -2)
        k = self.k(tokens).transpose(1, 2).reshape(n, self.num_heads, -1, t)
        v = self.v(tokens).transpose(1, 2).reshape(n, self.num_heads, -1, t)
        attn = (q @ k * self.scale).softmax(dim=-1)  # N x heads x HW x T
        out = (attn @ v.transpose(-1, -2)).transpose(-1, -2).reshape(n, c, h, w)
        return x + self.drop_path(out)


class LiteBottleneck(nn.Module):
    """First block: channel-expanding depthwise 3x3 -> BN -> ReLU6 -> 1x1 -> BN.

    It does not touch the tokens. Residual when ``stride == 1`` and ``in == out``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        hidden_channels (int): Width after the depthwise expansion (a multiple of
            ``in_channels``).
        stride (int): 1 or 2.
        groups (int): Groups of the 1x1 projection (4 for 26M). Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hidden_channels: int,
                 stride: int,
                 groups: int = 1) -> None:
        super().__init__()
        self.dw = conv_bn(
            in_channels,
            hidden_channels,
            3,
            stride=stride,
            groups=in_channels,
            shuffle_groups=in_channels if groups > 1 else 1)
        self.pw = conv_bn(hidden_channels, out_channels, 1, groups=groups)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor,
                tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.pw(F.relu6(self.dw(x)))
        return (x + y if self.use_residual else y), tokens


class _BridgedBlock(nn.Module, metaclass=ABCMeta):
    """Mobile -> Former bridge, Former, mobile sub-block (subclass), Former -> Mobile bridge.

    Args:
        in_channels (int): Channels of the block input (read by Mobile -> Former).
        out_channels (int): Channels of the block output (read by Former -> Mobile).
        token_dims (int): Token dimension ``d``.
        drop_path (float): Drop-path rate of the bridges, the Former and the residual.
    """

    def __init__(self, in_channels: int, out_channels: int, token_dims: int,
                 drop_path: float) -> None:
        super().__init__()
        self.mobile_to_former = MobileToFormer(
            in_channels, token_dims, drop_path=drop_path)
        self.former = Former(token_dims, drop_path=drop_path)
        self.former_to_mobile = FormerToMobile(
            out_channels, token_dims, drop_path=drop_path)
        self.drop_path = DropPath(drop_path)

    @abstractmethod
    def mobile(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """The convolutional sub-block, residual included."""

    def forward(self, x: torch.Tensor,
                tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The bridge reads the block input, before any downsampling.
        tokens = self.former(self.mobile_to_former(x, tokens))
        # Both DyReLUs read token 0 of the tokens just updated by this block.
        y = self.mobile(x, tokens)
        return self.former_to_mobile(y, tokens), tokens


class MFBlock(_BridgedBlock):
    """Mobile-Former block, stride 1: 1x1 -> DyReLU -> dw 3x3 -> DyReLU -> 1x1.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels; residual only when equal to ``in_channels``.
        hidden_channels (int): Expansion width.
        token_dims (int): Token dimension ``d``.
        groups (int): Groups of the two 1x1 convs (4 for 26M). Defaults to 1.
        drop_path (float): Drop-path rate. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hidden_channels: int,
                 token_dims: int,
                 groups: int = 1,
                 drop_path: float = 0.) -> None:
        super().__init__(in_channels, out_channels, token_dims, drop_path)
        self.pw1 = conv_bn(
            in_channels, hidden_channels, 1, groups=groups, shuffle_groups=groups)
        self.act1 = DyReLU(hidden_channels, token_dims)
        self.dw = conv_bn(
            hidden_channels, hidden_channels, 3, groups=hidden_channels)
        self.act2 = DyReLU(hidden_channels, token_dims)
        self.pw2 = conv_bn(
            hidden_channels, out_channels, 1, groups=groups, shuffle_groups=groups)
        self.use_residual = in_channels == out_channels

    def mobile(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.pw1(x), tokens)
        y = self.pw2(self.act2(self.dw(y), tokens))
        return x + self.drop_path(y) if self.use_residual else y


class MFDownBlock(_BridgedBlock):
    """Mobile-Former block, stride 2, as two channel-expanding depthwise bottlenecks.

    ``Y = 1x1(DyReLU(dw3x3_s2(x)))``, then ``out = Y + 1x1(DyReLU(dw3x3(Y)))``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        hidden_channels (tuple[int, int]): Widths ``(h1, h2)`` after the two depthwise
            expansions (multiples of ``in_channels`` and ``out_channels``).
        token_dims (int): Token dimension ``d``.
        groups (int): Groups of the two 1x1 convs (4 for 26M). Defaults to 1.
        drop_path (float): Drop-path rate. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hidden_channels: tuple[int, int],
                 token_dims: int,
                 groups: int = 1,
                 drop_path: float = 0.) -> None:
        super().__init__(in_channels, out_channels, token_dims, drop_path)
        hidden1, hidden2 = hidden_channels
        grouped = groups > 1
        self.dw1 = conv_bn(
            in_channels,
            hidden1,
            3,
            stride=2,
            groups=in_channels,
            shuffle_groups=in_channels if grouped else 1)
        self.act1 = DyReLU(hidden1, token_dims)
        self.pw1 = conv_bn(hidden1, out_channels, 1, groups=groups)
        self.dw2 = conv_bn(
            out_channels,
            hidden2,
            3,
            groups=out_channels,
            shuffle_groups=out_channels if grouped else 1)
        self.act2 = DyReLU(hidden2, token_dims)
        self.pw2 = conv_bn(hidden2, out_channels, 1, groups=groups)

    def mobile(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        y = self.pw1(self.act1(self.dw1(x), tokens))
        return y + self.drop_path(self.pw2(self.act2(self.dw2(y), tokens)))
