"""Feature extraction per BatchNorm regime: the recalibration computes the statistics of
the data it is shown and changes nothing else; the quarters regime tiles the quarters'
maps back into the image's grid."""
import torch
from torch import nn

from qbheat_mm.evaluation.features import extract_maps, recalibrate_bn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        a = self.conv(x)
        return a, self.bn(a)


def test_recalibration_estimates_the_statistics_of_its_images():
    torch.manual_seed(0)
    net = Net()
    net.bn.running_mean.fill_(5.)  # saved statistics of another distribution
    weights = {k: v.clone() for k, v in net.state_dict().items() if 'running' not in k
               and 'num_batches' not in k}
    batches = [torch.randn(8, 3, 4, 4) * 2 + 1 for _ in range(3)]
    assert recalibrate_bn(net, batches) == 1
    with torch.no_grad():
        acts = [net.conv(b) for b in batches]
    # equal batches: the cumulative average of the batch statistics
    mean = torch.stack([a.mean((0, 2, 3)) for a in acts]).mean(0)
    var = torch.stack([a.var((0, 2, 3), unbiased=True) for a in acts]).mean(0)
    torch.testing.assert_close(net.bn.running_mean, mean)
    torch.testing.assert_close(net.bn.running_var, var)
    assert not net.training and not net.bn.training
    assert net.bn.momentum == 0.1  # restored
    for k, v in weights.items():
        assert torch.equal(net.state_dict()[k], v), k


def test_maps_and_tiled_quarters():
    class Cells(nn.Module):  # a stride-2 "backbone": each map cell is a 2 x 2 pixel mean
        def forward(self, x):
            return (nn.functional.avg_pool2d(x, 2), nn.functional.avg_pool2d(x, 4))

    x = torch.arange(2 * 3 * 8 * 8.).reshape(2, 3, 8, 8)
    full, coarse = extract_maps(Cells(), [x[:1], x[1:]], [0, 1], dtype=torch.float32)
    assert full.shape == (2, 3, 4, 4) and coarse.shape == (2, 3, 2, 2)
    tiled, = extract_maps(Cells(), [x], [0], quarters=True, dtype=torch.float32)
    torch.testing.assert_close(tiled, full)  # cells do not cross quarter borders
    quarters, = extract_maps(Cells(), [x], [1], quarters=True, dtype=torch.float32)
    torch.testing.assert_close(quarters, coarse)
