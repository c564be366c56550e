"""The network file: a network's source and weights in one file, written whole or not at all,
read without running pickled code, and checked against the network before any weight is copied."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl import GraphdlError

TINY = 'network tiny {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(3)\n prob = softmax()\n}\n'


def tiny(seed=0):
    return graphdl.dlnetwork(graphdl.loads(TINY), seed=seed)


def snapshot(net):
    return {key: value.clone() for key, value in net.state_dict().items()}


def assert_untouched(net, before):
    after = net.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[key], before[key]) for key in before)


def test_a_network_comes_back_with_its_source_parameters_and_weights(tmp_path):
    graph = graphdl.load(EXAMPLES / "resnet18.dlg", parameters={"size": 32, "classes": 10})
    net = graphdl.dlnetwork(graph, seed=2).eval()
    for module in net.modules():  # batch-norm state travels too
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 2.0)
    path = graphdl.save_network(net, tmp_path / "resnet.pt", note="a test")
    loaded = graphdl.load_network(path).eval()
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    assert loaded.graph == net.graph and loaded.graph.parameters == {"size": 32, "classes": 10}
    assert loaded.graph.sources[str(EXAMPLES / "resnet18.dlg")].text == (EXAMPLES / "resnet18.dlg").read_text()
    assert torch.load(path, weights_only=True)["metadata"] == {"note": "a test"}


def test_imported_files_travel_with_the_network(tmp_path):
    (tmp_path / "blocks.dlg").write_text("block unit(width) {\n input x\n output y\n fc = fullyConnected(width)\n x -> fc -> relu() -> y\n}\n")
    (tmp_path / "net.dlg").write_text('import "blocks.dlg"\n\nnetwork net {\n input = featureInput(4)\n u = unit(8)\n}\n')
    net = graphdl.dlnetwork(graphdl.load(tmp_path / "net.dlg"), seed=0)
    path = graphdl.save_network(net, tmp_path / "net.pt")
    (tmp_path / "blocks.dlg").unlink()  # the file keeps what it needs
    loaded = graphdl.load_network(path)
    x = torch.rand(3, 4)
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    assert [layer.name for layer in loaded.graph.layers] == ["input", "u.fc", "u.relu"]


def test_a_network_built_in_python_is_saved_as_its_printed_text(tmp_path):
    graph = graphdl.LayerGraph("built")
    graph.add_layers(graphdl.layer("input", "featureInput", 3), graphdl.layer("fc", "fullyConnected", 2))
    net = graphdl.dlnetwork(graph, seed=0)
    loaded = graphdl.load_network(graphdl.save_network(net, tmp_path / "built.pt"))
    assert loaded.graph == graph
    torch.testing.assert_close(loaded(torch.ones(1, 3)), net(torch.ones(1, 3)), rtol=0, atol=0)


def test_files_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    net = tiny()
    path = graphdl.save_network(net, tmp_path / "net.pt", epoch=1)
    before = path.read_bytes()

    # A failure while writing (injected: torch.save raising halfway) leaves the old file intact.
    def failing_save(obj, f):
        with open(f, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match=r"error\[E006\]: cannot write .*net.pt: disk full"):
        graphdl.save_network(net, path, epoch=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]


def test_weights_load_into_a_network_whole(tmp_path):
    source, target = tiny(seed=1), tiny(seed=2)
    graphdl.load_weights(target, graphdl.save_network(source, tmp_path / "net.pt"))
    assert_untouched(target, source.state_dict())
    torch.save(tiny(seed=3).state_dict(), tmp_path / "state.pt")  # a plain state_dict file too
    graphdl.load_weights(target, tmp_path / "state.pt")
    assert_untouched(target, tiny(seed=3).state_dict())


def test_a_truncated_file_is_a_clear_error_and_changes_nothing(tmp_path):
    path = graphdl.save_network(tiny(seed=1), tmp_path / "net.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:300])
    net = tiny()
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"error\[E007\]: cannot read .*truncated.pt: not a whole graphdl network or weights file"):
        graphdl.load_weights(net, truncated)
    with pytest.raises(GraphdlError, match="E007"):
        graphdl.load_network(truncated)
    assert_untouched(net, before)


def test_a_file_cut_in_half_is_named_in_one_short_sentence(tmp_path):
    path = graphdl.save_network(tiny(seed=1), tmp_path / "net.pt")
    half = tmp_path / "half.pt"
    half.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(GraphdlError) as caught:
        graphdl.load_weights(tiny(), half)
    (diagnostic,) = caught.value.diagnostics
    # torch's own message goes on to advice about its zip reader; the diagnostic keeps what happened.
    assert re.search(r"not a whole graphdl network or weights file \(RuntimeError: [^.()]+\)$", diagnostic.message), diagnostic.message


def test_weights_of_other_sizes_are_a_clear_error_and_change_nothing(tmp_path):
    payload = torch.load(graphdl.save_network(tiny(seed=1), tmp_path / "net.pt"), weights_only=True)
    payload["state_dict"]["fc.weight"] = torch.ones(7, 4)  # the bias still fits: torch would copy it
    torch.save(payload, tmp_path / "wrong.pt")
    net = tiny()
    before = snapshot(net)
    with pytest.raises(GraphdlError) as caught:
        graphdl.load_weights(net, tmp_path / "wrong.pt")
    message = str(caught.value)
    assert "error[E502]: the weights from network `tiny` in" in message and "do not fit network `tiny`" in message
    assert "`fc.weight` is 7x4 but the network's is 3x4" in message and "left as it was" in message
    assert_untouched(net, before)
    with pytest.raises(GraphdlError, match="E502"):
        graphdl.load_network(tmp_path / "wrong.pt")


def test_a_file_from_another_network_is_a_clear_error_and_changes_nothing(tmp_path):
    other = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    path = graphdl.save_network(other, tmp_path / "mnist.pt")
    net = tiny()
    before = snapshot(net)
    with pytest.raises(GraphdlError) as caught:
        graphdl.load_weights(net, path)
    message = str(caught.value)
    assert "the weights from network `mnist`" in message
    assert "tensors the network does not have, e.g. `input.mean`, `conv1.weight`, `conv1.bias`" in message
    assert_untouched(net, before)
    with pytest.raises(GraphdlError, match="E502"):  # torch's own load_state_dict, made whole too
        net.load_state_dict(other.state_dict())
    assert_untouched(net, before)


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_file_that_would_run_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": "graphdl-network-1", "state_dict": _Payload()}, f, protocol=2)
    net = tiny()
    before = snapshot(net)
    with pytest.raises(GraphdlError, match="E007"):
        graphdl.load_network(path)
    with pytest.raises(GraphdlError, match="E007"):
        graphdl.load_weights(net, path)
    assert "this must never run" not in capsys.readouterr().out
    assert_untouched(net, before)


def test_files_that_are_not_networks_are_named_so(tmp_path):
    torch.save({"weights": [1, 2]}, tmp_path / "other.pt")
    with pytest.raises(GraphdlError, match="is not a graphdl network file"):
        graphdl.load_network(tmp_path / "other.pt")
    with pytest.raises(GraphdlError, match="holds neither a graphdl network nor a state_dict"):
        graphdl.load_weights(tiny(), tmp_path / "other.pt")
    with pytest.raises(OSError, match=r"error\[E001\]: cannot read .*missing.pt: No such file"):
        graphdl.load_network(tmp_path / "missing.pt")
    with pytest.raises(OSError, match=r"error\[E001\]: cannot read .*: Is a directory"):
        graphdl.load_network(tmp_path)
    with pytest.raises(ValueError, match=r"error\[E007\]: .*other.pt is not a graphdl network file"):
        graphdl.load_network(tmp_path / "other.pt")


def test_a_graph_edited_in_python_is_saved_as_it_is_not_as_its_source(tmp_path):
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    graph.replace_layer("fc", graphdl.layer("fc", "fullyConnected", 10), graphdl.layer("drop", "dropout", 0.3))
    net = graphdl.dlnetwork(graph, seed=0)
    back = graphdl.load_network(graphdl.save_network(net, tmp_path / "edited.pt"))
    assert back.layer_names == ("input", "conv1", "bn1", "relu1", "pool1", "fc", "drop", "prob")
    assert graphdl.to_dlg(back.graph) == graphdl.to_dlg(graph)
    # An unedited graph keeps the text it was written in, comments and all.
    saved = torch.load(graphdl.save_network(graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg")), tmp_path / "plain.pt"), weights_only=True)
    assert list(saved["sources"].values()) == [(EXAMPLES / "mnist.dlg").read_text()]


def test_metadata_is_kept_as_plain_values_or_refused_when_saving(tmp_path):
    path = graphdl.save_network(tiny(), tmp_path / "net.pt", accuracy=np.float64(0.5), epoch=np.int64(3), where=tmp_path, note="x")
    metadata = torch.load(path, weights_only=True)["metadata"]
    assert metadata == {"accuracy": 0.5, "epoch": 3, "where": str(tmp_path), "note": "x"}
    assert type(metadata["accuracy"]) is float
    with pytest.raises(TypeError, match="metadata `history` must be a number, a string or a boolean, not list"):
        graphdl.save_network(tiny(), tmp_path / "other.pt", history=[1, 2])
    assert not (tmp_path / "other.pt").exists()


def test_damaged_or_older_network_files(tmp_path):
    payload = torch.load(graphdl.save_network(tiny(seed=1), tmp_path / "net.pt"), weights_only=True)
    older = {key: value for key, value in payload.items() if key not in ("learn_rate_factors", "l2_factors", "frozen")}
    torch.save(older, tmp_path / "older.pt")
    torch.testing.assert_close(graphdl.load_network(tmp_path / "older.pt").fc.weight, tiny(seed=1).fc.weight)
    torch.save({**payload, "sources": {}}, tmp_path / "no_source.pt")
    with pytest.raises(GraphdlError, match=r"error\[E007\]: cannot read .*no_source.pt: a graphdl network file with missing or damaged fields"):
        graphdl.load_network(tmp_path / "no_source.pt")
    torch.save({**payload, "state_dict": {**payload["state_dict"], "fc.weight": "zeros"}}, tmp_path / "string.pt")
    with pytest.raises(GraphdlError, match=r"E502.*\n  = note: `fc.weight` is a str, not a tensor"):
        graphdl.load_network(tmp_path / "string.pt")
    torch.save({"fc.weight": np.float64(1.0)}, tmp_path / "numpy.pt")
    with pytest.raises(GraphdlError, match="it holds Python objects other than tensors, numbers and strings"):
        graphdl.load_weights(tiny(), tmp_path / "numpy.pt")
