"""Network files on hostile input (issue 12): truncated, bit-flipped, code-carrying and crafted files,
each field of the wrong form, and sources over the limits, are diagnostics (E007, E013, E502, or
the front end's codes for the saved source), never a traceback, a hang or code run."""

from __future__ import annotations

import os
import random
import re

import pytest
import torch
from test_files import promptly

import graphdl
from graphdl import GraphdlError
from graphdl.limits import LIMITS

TINY = 'network tiny {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(3)\n prob = softmax()\n}\n'


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A network file of a small network, its bytes and its payload."""
    net = graphdl.dlnetwork(graphdl.loads(TINY), seed=0)
    net.set_learn_rate_factor("fc", "weight", 2.0)
    net.learnables["fc", "bias"].requires_grad_(False)
    path = graphdl.save_network(net, tmp_path_factory.mktemp("saved") / "tiny.pt", epoch=3)
    return path, path.read_bytes(), torch.load(path, weights_only=True)


def crafted(tmp_path, payload, name="crafted.pt"):
    path = tmp_path / name
    torch.save(payload, path)
    return path


def refused(path, code: str) -> GraphdlError:
    """The GraphdlError load_network raises for `path`, whose first code is `code`."""
    with pytest.raises(GraphdlError) as raised:
        promptly(graphdl.load_network, path)
    assert raised.value.code == code, str(raised.value)
    assert "Traceback" not in str(raised.value)
    return raised.value


def test_the_unaltered_file_loads(saved):
    path, _, payload = saved
    net = graphdl.load_network(path)
    assert net.learn_rate_factor("fc", "weight") == 2.0 and not net.learnables["fc", "bias"].requires_grad
    assert payload["learn_rate_factors"][0] == ["fc", "weight", 2.0] and payload["frozen"] == [["fc", "bias"]]


def test_a_file_cut_anywhere_is_e007(saved, tmp_path):
    _, data, _ = saved
    for cut in sorted({0, 1, 4, 30, 100, len(data) // 3, len(data) // 2, len(data) - 200, len(data) - 22, len(data) - 1}):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        error = refused(tmp_path / "cut.pt", "E007")
        assert "not a whole graphdl network or weights file" in str(error)


def test_flipped_bits_give_a_network_or_a_diagnostic(saved, tmp_path):
    _, data, _ = saved
    rng = random.Random(12)
    outcomes = set()
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.choice([1, 1, 2, 8])):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        (tmp_path / "flipped.pt").write_bytes(bytes(damaged))
        try:
            promptly(graphdl.load_network, tmp_path / "flipped.pt")
            outcomes.add("loaded")  # a flip in a tensor's bytes changes a weight, nothing more
        except GraphdlError as e:
            outcomes.add(e.code)
    # Flips in the saved source give that source's diagnostics, whatever they are.
    assert all(outcome == "loaded" or re.fullmatch(r"E\d{3}", outcome) for outcome in outcomes) and "E007" in outcomes, outcomes


class _Runs:
    """Unpickled, would open (and so create) a file: a pickle that carries code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_a_pickle_that_carries_code_is_refused_and_never_run(saved, tmp_path):
    _, _, payload = saved
    marker = tmp_path / "ran"
    for name, content in [("state.pt", {**payload, "state_dict": _Runs(marker)}), ("metadata.pt", {**payload, "metadata": {"x": _Runs(marker)}})]:
        error = refused(crafted(tmp_path, content, name), "E007")
        assert "other than tensors, numbers and strings, which only running code from the file could rebuild (`io.open`)" in str(error)
        with pytest.raises(GraphdlError, match="E007"):
            graphdl.load_weights(graphdl.dlnetwork(graphdl.loads(TINY)), tmp_path / name)
    assert not marker.exists()


BAD_FIELDS = [
    # (field, crafted value, code, a piece of the message)
    ("format", 1, "E007", "is not a graphdl network file"),
    ("version", "2", "E007", "`version` is '2', not a positive integer"),
    ("version", True, "E007", "`version` is True"),
    ("version", 0, "E007", "`version` is 0"),
    ("version", 3, "E007", "written by a newer graphdl"),
    ("version", 2**70, "E007", "`version` is 1180591620717411303424: written by a newer graphdl"),
    ("version", 10**5000, "E007", ""),  # refused by torch's reader of plain values
    ("network", 5, "E007", "`network` is 5, not a network's name"),
    ("network", "", "E007", "`network` is ''"),
    ("network", "other", "E002", "no network named `other`"),
    ("parameters", [], "E007", "`parameters` is [], not a dictionary"),
    ("parameters", {1: 2}, "E007", "`parameters` holds 1: 2"),
    ("parameters", {"size": {"a": 1}}, "E007", "`parameters` holds 'size': {'a': 1}"),
    ("parameters", {"size": torch.ones(2)}, "E007", "a tensor of size (2,)"),
    ("sources", {}, "E007", "`sources` is {}"),
    ("sources", ["network"], "E007", "`sources` is ['network']"),
    ("sources", {"a.dlg": 5}, "E007", "`sources` holds 'a.dlg': 5"),
    ("sources", {5: TINY}, "E007", "`sources` holds 5: "),
    ("sources", {"a\0.dlg": TINY}, "E007", "`sources` holds 'a\\x00.dlg'"),
    ("sources", {"a.dlg": "network tiny {\ud800}"}, "E007", "not Unicode text"),
    ("sources", {"a.dlg": "network tiny {\n input = featureInput(4\n}\n"}, "E101", ""),
    ("sources", {"a.dlg": 'import "/etc/passwd"\n' + TINY}, "E003", "not among the files kept with the network"),
    ("state_dict", [], "E007", "`state_dict` is []"),
    ("state_dict", {1: torch.ones(1)}, "E007", "`state_dict` is {1: tensor"),
    ("state_dict", {"fc.weight": torch.ones(3, 4)}, "E502", ""),
    ("learn_rate_factors", "fc", "E007", "`learn_rate_factors` is 'fc', not a list of rows"),
    ("learn_rate_factors", [["fc", "weight"]], "E007", "`learn_rate_factors` row 0 is ['fc', 'weight'], not [layer, parameter, factor]"),
    ("learn_rate_factors", [["fc", "weight", 1.0, 2.0]], "E007", "row 0 is ['fc', 'weight', 1.0, 2.0]"),
    ("learn_rate_factors", [[1, 2, 3]], "E007", "row 0 is [1, 2, 3]"),
    ("learn_rate_factors", [["fc", "weight", -1.0]], "E007", "the factor a non-negative number"),
    ("learn_rate_factors", [["fc", "weight", float("nan")]], "E007", "row 0 is ['fc', 'weight', nan]"),
    ("learn_rate_factors", [["fc", "weight", 10**400]], "E007", "row 0 is"),
    ("learn_rate_factors", [["fc", "weight", "2"]], "E007", "row 0 is ['fc', 'weight', '2']"),
    ("learn_rate_factors", [["nope", "weight", 1.0]], "E502", "`learn_rate_factors` names nope/weight"),
    ("l2_factors", [["fc", "bias", None]], "E007", "`l2_factors` row 0"),
    ("l2_factors", [["fc", "gain", 1.0]], "E502", "`l2_factors` names fc/gain"),
    ("frozen", "fc", "E007", "`frozen` is 'fc'"),
    ("frozen", [["fc"]], "E007", "`frozen` row 0 is ['fc'], not [layer, parameter]"),
    ("frozen", [["nope", "weight"]], "E502", "`frozen` names nope/weight"),
    ("metadata", [1], "E007", "`metadata` is [1]"),
    ("metadata", {"epoch": [1, 2]}, "E007", "`metadata` is {'epoch': [1, 2]}"),
    ("training", [1], "E007", "`training` is [1], not a dictionary"),
]


@pytest.mark.parametrize(("field", "value", "code", "message"), BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, *_) in enumerate(BAD_FIELDS)])
def test_each_crafted_field_is_a_diagnostic(saved, tmp_path, field, value, code, message):
    _, _, payload = saved
    error = refused(crafted(tmp_path, {**payload, field: value}), code)
    assert message in str(error)


@pytest.mark.parametrize("field", ["network", "parameters", "sources", "state_dict"])
def test_a_missing_field_is_e007(saved, tmp_path, field):
    _, _, payload = saved
    path = crafted(tmp_path, {key: value for key, value in payload.items() if key != field})
    assert f"`{field}` is None" in str(refused(path, "E007"))


def test_every_damaged_field_is_named_in_one_error(saved, tmp_path):
    _, _, payload = saved
    error = refused(crafted(tmp_path, {**payload, "version": "x", "frozen": 1, "metadata": None}), "E007")
    assert [note.split(" ")[0] for note in error.diagnostics[0].notes] == ["`version`", "`frozen`", "`metadata`"]


def test_load_weights_and_checkpoints_check_the_fields_too(saved, tmp_path):
    from graphdl.interop import read_checkpoint

    _, _, payload = saved
    path = crafted(tmp_path, {**payload, "network": ["tiny"]})
    with pytest.raises(GraphdlError, match=r"E007[^\n]*missing or damaged fields"):
        graphdl.load_weights(graphdl.dlnetwork(graphdl.loads(TINY)), path)
    with pytest.raises(GraphdlError, match="E007"):
        read_checkpoint(crafted(tmp_path, {**payload, "training": "resume me"}))
    assert read_checkpoint(crafted(tmp_path, {**payload, "training": {"epoch": 1}}))[1] == {"epoch": 1}


def test_the_saved_source_meets_the_limits_of_a_file(saved, tmp_path):
    _, _, payload = saved
    over = TINY + "#" * (LIMITS.file_bytes - len(TINY) + 1)
    error = refused(crafted(tmp_path, {**payload, "sources": {"tiny.dlg": over}}), "E013")
    assert "its source `tiny.dlg` is larger than the limit of 16 MiB" in str(error)


def test_the_saved_source_meets_the_limits_of_the_language(saved, tmp_path):
    _, _, payload = saved
    # A source whose repetition would expand forever is stopped by the front end's limits, as a file's is.
    endless = 'network tiny {\n input = featureInput(4)\n r = relu() for i in 0..1000000000\n}\n'
    error = refused(crafted(tmp_path, {**payload, "sources": {"tiny.dlg": endless}}), "E231")
    assert "1,000,000" in str(error)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_a_device_or_a_folder_is_not_read_as_a_network_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.pt")
    for path, kind in [(tmp_path / "pipe.pt", "a FIFO"), ("/dev/zero", "a character device")]:
        with pytest.raises(OSError, match=f"E001.*{kind}, not a regular file"):
            promptly(graphdl.load_network, path)
        with pytest.raises(OSError, match="E001"):
            promptly(graphdl.load_weights, graphdl.dlnetwork(graphdl.loads(TINY)), path)
    with pytest.raises(IsADirectoryError, match="E001"):
        graphdl.load_network(tmp_path)


def test_a_network_file_over_its_limits_is_refused_before_it_is_read(tmp_path):
    whole = tmp_path / "huge.pt"
    with open(whole, "wb") as f:
        f.truncate(LIMITS.network_file_bytes + 1)  # sparse: no room taken
    with pytest.raises(OSError, match=r"E013.*larger than the limit of 64 GiB") as raised:
        graphdl.load_network(whole)
    assert raised.value.errno == 27  # EFBIG
    # A file in torch's older format is all pickle, unpickled whole: bounded as the objects are.
    pickled = tmp_path / "pickled.pt"
    with open(pickled, "wb") as f:
        f.truncate(LIMITS.network_file_objects_bytes + 1)
    with pytest.raises(OSError, match=r"E013.*larger than the limit of 256 MiB"):
        graphdl.load_network(pickled)


@pytest.mark.slow
def test_objects_over_their_limit_are_refused_before_they_are_unpickled(saved, tmp_path):
    _, _, payload = saved
    path = crafted(tmp_path, {**payload, "metadata": {"note": "x" * (LIMITS.network_file_objects_bytes + 1)}})
    with pytest.raises(OSError, match=r"E013.*larger than the limit of 256 MiB"):
        graphdl.load_network(path)
