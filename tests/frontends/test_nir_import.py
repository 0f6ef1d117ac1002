"""NIR import: the paper's files in circulation load, repairs are made and reported, bad
files fail with one message naming the file, node or edge."""
import h5py
import nir
import numpy as np
import pytest

from snnc.errors import GraphError, ModelFileError
from snnc.frontends import load_model
from snnc.frontends.nir_import import from_nir
from snnc.ir import CubaLIF, Graph
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
