"""Norse modules composed as people write them: an ``nn.Module`` subclass whose forward calls
cells with ``z, s = self.lif(x, s)`` (``s = None`` first), looping over steps, and MaxPool2d on
spikes. snnc's reference output equals Norse's forward: spikes exactly, an LICell readout's
voltage within 1e-6 (float32 rounding, as in test_reference_vs_norse)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
norse = pytest.importorskip("norse.torch")

from snnc.backends.reference import simulate  # noqa: E402
from snnc.errors import UnsupportedLayerError  # noqa: E402
from snnc.frontends.norse import from_norse  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from tests.norse_models import inputs, lif_box, lif_cuba, linear  # noqa: E402

STEPS, DT = 40, 1e-3
nn = torch.nn


class LoopNet(nn.Module):
    """Linear -> LIFCell -> Linear -> LICell, the loop over steps inside forward."""

    def __init__(self, rng, readout=True):
        super().__init__()
        self.readout = readout
        self.fc1, self.lif = linear(rng, 10, 16, gain=12.0), lif_cuba(rng, 16, DT)
        self.fc2 = linear(rng, 16, 4, gain=3.0 if readout else 30.0)
        self.out = norse.LICell(dt=DT) if readout else lif_box(rng, 4, DT)

    def forward(self, x):
        s1 = s2 = None
        record = []
        for step in range(STEPS):
            z, s1 = self.lif(self.fc1(x[step]), s1)
            y, s2 = self.out(self.fc2(z), s2)
            record.append(y)
        return torch.stack(record)


class ConvPoolNet(nn.Module):
    """Conv2d -> LIFBoxCell -> MaxPool2d (exact on spikes) -> Linear -> LIFBoxCell, looped."""

    def __init__(self, rng):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.mul_(8.0)
        self.lif1, self.pool = lif_box(rng, (3, 6, 6), DT), nn.MaxPool2d(2)
        self.fc, self.lif2 = linear(rng, 27, 5, gain=4.0), lif_box(rng, 5, DT)

    def forward(self, x):
        s1 = s2 = None
        record = []
        for step in range(STEPS):
            z, s1 = self.lif1(self.conv(x[step]), s1)
            z, s2 = self.lif2(self.fc(self.pool(z).flatten(1)), s2)
            record.append(z)
        return torch.stack(record)


@pytest.mark.parametrize("readout", [True, False])
def test_loop_subclass_matches_norse(readout):
    rng = np.random.default_rng(10 + readout)
    torch.manual_seed(0)
    net = LoopNet(rng, readout)
    x = inputs(rng, (10,), steps=STEPS)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    graph = from_norse(net, torch.from_numpy(x))
    got = simulate(graph, x, SimOptions(dt=DT)).outputs["output"]
    if readout:
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    else:
        assert 0 < expected.sum() < expected.size
        np.testing.assert_array_equal(got, expected)


def test_conv_maxpool_on_spikes_matches_norse():
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    net = ConvPoolNet(rng)
    x = inputs(rng, (1, 6, 6), steps=STEPS)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    graph = from_norse(net, torch.from_numpy(x))
    got = simulate(graph, x, SimOptions(dt=DT, reset="to_v_reset")).outputs["output"]
    assert 0 < expected.sum() < expected.size
    np.testing.assert_array_equal(got, expected)


def test_maxpool_on_real_values_is_refused_with_the_fix():
    model = norse.SequentialState(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), norse.LIFBoxCell())
    with pytest.raises(UnsupportedLayerError, match=r"layer '1' \(MaxPool2d\).*only on spikes"):
        from_norse(model, torch.zeros(1, 1, 8, 8))
