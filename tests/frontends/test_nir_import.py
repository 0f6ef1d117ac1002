"""NIR import: the paper's files in circulation load, repairs are made and reported, bad
files fail with one message naming the file, node or edge."""
import warnings

import h5py
import nir
import numpy as np
import pytest

from snnc.errors import GraphError, MemoryLimitError, ModelFileError, OptionError
from snnc.frontends import load_model
from snnc.frontends.nir_import import from_nir
from snnc.ir import CubaLIF, Graph
from snnc.ir.shapes import memory_limit
from tests.conftest import copy_hdf5

PAPER_FILES = ["lif_norse", "lif_rockpool", "two_lif_neurons", "cnn_sinabs",
               "braille_noDelay_bias_zero", "braille_noDelay_noBias_subtract",
               "braille_noDelay_bias_zero_subgraph", "braille_noDelay_noBias_subtract_subgraph"]


@pytest.mark.parametrize("name", PAPER_FILES)
def test_paper_files_load(data_dir, name):
    graph = load_model(data_dir / f"{name}.nir")
    assert isinstance(graph, Graph) and graph.inputs and graph.outputs


def test_missing_v_reset_is_filled_and_reported(data_dir):
    graph = load_model(data_dir / "lif_norse.nir")
    assert graph.nodes["1"].v_reset.tolist() == [0.0]
    assert "1: missing v_reset set to 0" in graph.metadata["repairs"]


def test_rockpool_output_shape_is_repaired(data_dir):
    with pytest.raises(Exception):  # nir itself refuses it with type checking on
        nir.read(data_dir / "lif_rockpool.nir")
    graph = load_model(data_dir / "lif_rockpool.nir")
    assert graph.nodes["output"].shape == (1,)


def test_subgraph_files_load_as_the_flat_files(data_dir):
    nested = load_model(data_dir / "braille_noDelay_bias_zero_subgraph.nir")
    flat = load_model(data_dir / "braille_noDelay_bias_zero.nir")
    inner = nested.nodes["lif1"]
    assert isinstance(inner, Graph) and any("connected the only unconnected node" in note
                                            for note in inner.metadata["repairs"])
    assert inner.nodes["lif1"].same_as(flat.nodes["lif1.lif"])
    assert inner.nodes["lin"].same_as(flat.nodes["lif1.w_rec"])


def test_dangling_edge_without_unique_repair_is_named(data_dir, tmp_path):
    def break_edges(f):
        group = f["node/nodes/lif1"]
        del group["edges"]
        group["edges"] = np.array([[b"input", b"lif"], [b"lif", b"ghost"], [b"ghost", b"lif"],
                                   [b"lif", b"output"]], dtype=object)
    path = copy_hdf5(data_dir / "braille_noDelay_bias_zero_subgraph.nir", tmp_path / "b.nir",
                     break_edges)
    with pytest.raises(GraphError, match=r"b\.nir: in nested graph 'lif1': edge .* references "
                                         r"node 'ghost', which does not exist"):
        load_model(path)


def test_unknown_node_type_is_named(data_dir, tmp_path):
    def rename_type(f):
        del f["node/nodes/1/type"]
        f["node/nodes/1/type"] = b"Izhikevich"
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "u.nir", rename_type)
    with pytest.raises(GraphError, match=r"u\.nir: node '1': unknown node type 'Izhikevich'"):
        load_model(path)


def test_nan_parameter_is_named(data_dir, tmp_path):
    def poison(f):
        f["node/nodes/1/tau"][0] = np.nan
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "nan.nir", poison)
    with pytest.raises(GraphError, match=r"nan\.nir: node '1' \(LIF\): parameter 'tau' holds NaN"):
        load_model(path)


def test_missing_parameter_is_named(data_dir, tmp_path):
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "m.nir",
                     lambda f: f.__delitem__("node/nodes/1/tau"))
    with pytest.raises(GraphError, match=r"node '1' \(LIF\): missing parameter 'tau'"):
        load_model(path)


def test_not_hdf5_and_not_nir(tmp_path):
    text = tmp_path / "text.nir"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a NIR file"):
        load_model(text)
    other = tmp_path / "other.nir"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    with pytest.raises(ModelFileError, match="no 'node' group"):
        load_model(other)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.nir")


def test_torch_tensors_and_scalar_parameters_from_memory():
    torch = pytest.importorskip("torch")
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([3])}),
        "fc": nir.Linear(weight=torch.ones(4, 3)),
        "lif": nir.CubaLIF(tau_syn=torch.tensor(0.005), tau_mem=torch.tensor(0.01),
                           r=torch.tensor(1.0), v_leak=torch.tensor(0.0),
                           v_threshold=torch.tensor(1.0)),
        "output": nir.Output(output_type={"output": np.array([4])}),
    }, edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)
    imported = from_nir(graph)
    node = imported.nodes["lif"]
    assert isinstance(node, CubaLIF) and node.shape == (4,)
    assert isinstance(node.tau_mem, np.ndarray)
    np.testing.assert_array_equal(node.tau_mem, np.float32(0.01))
    assert any("fitted to its input (4,)" in note for note in imported.metadata["repairs"])


# -- validation before work (issue 15) ------------------------------------------------------------


@pytest.mark.parametrize("tau, message", [
    (0.0, "must be positive, got 0"),
    (-2.5e-3, "must be positive, got -0.0025"),
    (1e-40, "too small to divide by"),  # normal in float64, subnormal in a float32 simulation
])
def test_time_constants_must_be_positive_and_normal(data_dir, tmp_path, tau, message):
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "tau.nir",
                     lambda f: f["node/nodes/1/tau"].__setitem__(0, tau) if tau > -1 else
                     (f.__delitem__("node/nodes/1/tau"), f.__setitem__("node/nodes/1/tau", [tau])))
    pattern = rf"tau\.nir: node '1' \(LIF\): parameter 'tau'.*{message}"
    with pytest.raises(GraphError, match=pattern):
        load_model(path)


def test_complex_weights_are_refused_not_cast(data_dir, tmp_path):
    def make_complex(f):
        del f["node/nodes/0/weight"]
        f["node/nodes/0/weight"] = np.array([[1 + 0.5j]])
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "c.nir", make_complex)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: refused before any cast
        with pytest.raises(GraphError, match=r"node '0' \(Affine\): parameter 'weight' is complex"):
            load_model(path)


@pytest.mark.parametrize("dt, accepted", [(1e-4, True), (b"1e-4", True), (b"fast", False),
                                          (0.0, False), (np.array([1e-4, 1e-3]), False)])
def test_dt_metadata_is_a_positive_number_of_seconds(data_dir, tmp_path, dt, accepted):
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "dt.nir",
                     lambda f: f.__setitem__("node/metadata/dt", dt))
    if accepted:
        assert load_model(path).metadata["dt"] == 1e-4
    else:
        with pytest.raises(GraphError, match=r"dt\.nir: field 'metadata/dt'"):
            load_model(path)


def test_links_to_other_files_are_never_followed(data_dir, tmp_path):
    def link_out(f):
        del f["node/nodes/1"]
        f["node/nodes/1"] = h5py.ExternalLink(str(data_dir / "lif_norse.nir"), "/node/nodes/1")
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "x.nir", link_out)
    with pytest.raises(ModelFileError, match=r"x\.nir: node '1': an external link to .*lif_norse"):
        load_model(path)


def test_declared_sizes_are_checked_before_reading(data_dir, tmp_path, monkeypatch):
    def declare_huge(f):
        del f["node/nodes/0/weight"]
        f.create_dataset("node/nodes/0/weight", shape=(10**6, 10**6), dtype="f4",
                         chunks=(1, 1024), compression="gzip")  # no chunk written: a tiny file
    path = copy_hdf5(data_dir / "lif_norse.nir", tmp_path / "big.nir", declare_huge)
    assert path.stat().st_size < 100_000
    with pytest.raises(MemoryLimitError, match=r"big\.nir: node '0', field 'weight': dataset of "
                       r"shape \(1000000, 1000000\) \(float32\) needs 3\.6 TB, over the memory "
                       r"limit"):
        load_model(path)
    monkeypatch.setenv("SNNC_MAX_MEMORY", "1K")
    with pytest.raises(MemoryLimitError, match=r"over the memory limit 1\.0 KB"):
        load_model(data_dir / "cnn_sinabs.nir")


@pytest.mark.parametrize("text, limit", [("4G", 4 * 2**30), ("512 MiB", 512 * 2**20),
                                         ("1e9", 10**9), ("2.5k", 2560)])
def test_memory_limit_from_the_environment(monkeypatch, text, limit):
    monkeypatch.setenv("SNNC_MAX_MEMORY", text)
    assert memory_limit() == limit


def test_bad_memory_limit_is_an_option_error(monkeypatch):
    monkeypatch.setenv("SNNC_MAX_MEMORY", "lots")
    with pytest.raises(OptionError, match="SNNC_MAX_MEMORY='lots'"):
        memory_limit()

