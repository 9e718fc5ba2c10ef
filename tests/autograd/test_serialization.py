"""Tests for autograd.serialization: exact round trips, atomic writes, hostile files."""

import collections
import io
import json
import math
import os
import pickle
import re
import zipfile

import numpy as np
import pytest

import autograd
from autograd import serialization
from autograd.serialization import load, save


def assert_same(a, b, where="obj"):
    """Recursive exact equality: types, dtypes, shapes, values (NaN equal to NaN)."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, autograd.Tensor):
        assert a.requires_grad == b.requires_grad, where
        assert_same(a.data, b.data, where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape}"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype, where
        assert a == b or (np.isnan(a) and np.isnan(b)), where
    elif isinstance(a, dict):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b], where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def round_trip(obj, tmp_path):
    path = tmp_path / "obj.ngd"
    save(obj, path)
    return load(path)


def nested_example():
    rng = np.random.default_rng(0)
    return {
        "weight": autograd.Tensor(rng.standard_normal((3, 4)).astype(np.float32),
                                  requires_grad=True),
        "bias": autograd.Tensor(np.array([0.5, -1.25]), dtype=np.float64),
        "mask": autograd.Tensor(np.array([True, False, True])),
        "arrays": [
            np.array(3.5),  # 0-d float64
            np.zeros((0, 3), dtype=np.float32),  # empty
            np.arange(6, dtype=np.int64).reshape(2, 3),
            np.array([[True], [False]]),
            np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
            np.arange(20, dtype=np.int32)[::3],  # non-contiguous
            np.array([1.0, 2.0], dtype=">f8"),  # big-endian
            np.array([1 + 2j], dtype=np.complex64),
            np.array(7, dtype=np.uint8),
        ],
        "plain": (1, 2.5, True, False, None, "héllo ✓", "", 2**70, -0.0),
        "special_floats": [float("nan"), float("inf"), float("-inf")],
        "numpy_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True)],
        "empty": {"list": [], "tuple": (), "dict": {}},
        3: "an int key",
        "deep": [[[(1, [2, {"x": np.ones(2, dtype=np.float16)}])]]],
    }


def test_nested_round_trip_is_exact(tmp_path):
    obj = nested_example()
    loaded = round_trip(obj, tmp_path)
    assert_same(obj, loaded)
    assert loaded["weight"].requires_grad and not loaded["bias"].requires_grad
    assert loaded["arrays"][0].shape == () and loaded["arrays"][0].dtype == np.float64
    assert loaded["arrays"][1].shape == (0, 3)
    assert loaded["arrays"][6].dtype == np.dtype(">f8")
    assert isinstance(loaded["plain"], tuple) and isinstance(loaded["arrays"], list)
    assert math.copysign(1.0, loaded["plain"][-1]) == -1.0
    assert type(loaded["numpy_scalars"][0]) is np.float32


def test_optimizer_state_dict_with_int_keys_and_tuples(tmp_path):
    sd = {
        "state": {
            0: {"step": 3, "exp_avg": np.array([0.1, 0.2], dtype=np.float32),
                "exp_avg_sq": np.array([1e-3, 2e-3], dtype=np.float32)},
            1: {"step": 3, "exp_avg": np.zeros((2, 2)), "exp_avg_sq": np.ones((2, 2))},
        },
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "amsgrad": False, "params": [0, 1]}],
    }
    loaded = round_trip(sd, tmp_path)
    assert_same(sd, loaded)
    assert list(loaded["state"]) == [0, 1] and all(type(k) is int for k in loaded["state"])
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["state"][0]["exp_avg"][1] == np.float32(0.2)


def test_model_state_dict_with_ordered_dict_and_str_path(tmp_path):
    sd = collections.OrderedDict(
        [("0.weight", autograd.Tensor(np.eye(2, dtype=np.float32))),
         ("0.bias", autograd.Tensor(np.zeros(2, dtype=np.float32))),
         ("1.running_var", autograd.Tensor(np.ones(2, dtype=np.float32))),
         ("1.num_batches_tracked", autograd.Tensor(np.array(5, dtype=np.int64)))]
    )
    path = str(tmp_path / "model.ngd")
    save({"model": sd, "epoch": 7}, path)
    loaded = load(path)
    assert type(loaded["model"]) is collections.OrderedDict
    assert list(loaded["model"]) == list(sd)
    assert_same({"model": sd, "epoch": 7}, loaded)


def test_single_tensor_and_plain_values_at_top_level(tmp_path):
    assert_same(round_trip(autograd.Tensor(np.array([1.0, 2.0])), tmp_path),
                autograd.Tensor(np.array([1.0, 2.0])))
    assert round_trip(42, tmp_path) == 42
    assert round_trip(None, tmp_path) is None


def test_an_object_saved_twice_comes_back_as_one_object(tmp_path):
    shared = autograd.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    array = np.arange(3)
    loaded = round_trip({"a": shared, "b": [shared], "c": array, "d": array}, tmp_path)
    assert loaded["a"] is loaded["b"][0]
    assert loaded["c"] is loaded["d"]
    with zipfile.ZipFile(tmp_path / "obj.ngd") as archive:
        assert len([n for n in archive.namelist() if n.endswith(".npy")]) == 2


def test_save_overwrites_and_accepts_pathlike(tmp_path):
    path = tmp_path / "ckpt.ngd"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}
    assert os.listdir(tmp_path) == ["ckpt.ngd"]


def test_save_through_a_symlink_keeps_the_link(tmp_path):
    real, link = tmp_path / "real.ngd", tmp_path / "link.ngd"
    save({"v": 1}, real)
    link.symlink_to(real)
    save({"v": 2}, link)
    assert link.is_symlink() and load(real) == {"v": 2}


# --------------------------------------------------------------------------- unsupported


@pytest.mark.parametrize(
    "obj, type_name, where",
    [
        ({"a": [1, {2, 3}]}, "set", "obj['a'][1]"),
        ({"state": {0: {"fn": print}}}, "builtin_function_or_method", "obj['state'][0]['fn']"),
        ([object()], "object", "obj[0]"),
        ({(1, 2): 3}, "tuple", "obj"),
        (np.array([None, 1], dtype=object), "object", "obj"),
        (collections.namedtuple("P", "x y")(1, 2), "P", "obj"),
    ],
)
def test_unsupported_objects_raise_type_error_and_write_nothing(tmp_path, obj, type_name, where):
    path = tmp_path / "bad.ngd"
    with pytest.raises(TypeError) as info:
        save(obj, path)
    assert type_name in str(info.value) and where in str(info.value)
    assert os.listdir(tmp_path) == []


def test_circular_reference_is_refused(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="circular"):
        save(loop, tmp_path / "loop.ngd")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- atomic write


def crash_in_replace(*args, **kwargs):
    raise OSError("simulated crash before the rename")


def crash_mid_write(file, manifest, arrays):
    file.write(b"PK\x03\x04 half a zip")
    raise RuntimeError("simulated crash mid-write")


def interrupt_mid_write(file, manifest, arrays):
    file.write(b"partial")
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target, replacement, error",
    [(serialization.os, ("replace", crash_in_replace), OSError),
     (serialization, ("_write_archive", crash_mid_write), RuntimeError),
     (serialization, ("_write_archive", interrupt_mid_write), KeyboardInterrupt)],
)
def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch, target, replacement, error):
    path = tmp_path / "ckpt.ngd"
    old = {"epoch": 1, "w": np.arange(4.0)}
    save(old, path)
    monkeypatch.setattr(target, *replacement)
    with pytest.raises(error):
        save({"epoch": 2, "w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.ngd"]  # no temporary file left behind
    assert_same(load(path), old)


def test_crash_with_no_previous_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "_write_archive", crash_mid_write)
    with pytest.raises(RuntimeError):
        save({"a": 1}, tmp_path / "new.ngd")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- hostile files


class CreatesMarker:
    """Unpickling this calls open(path, "w"): it would create the marker file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def assert_rejected(path):
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load(path)


def zip_file(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)


def manifest(root, version=serialization.VERSION, fmt=serialization.FORMAT):
    return json.dumps({"format": fmt, "version": version, "root": root})


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_the_marker_payload_is_live(tmp_path):
    """Sanity check: the payload used below really runs code when unpickled."""
    sanity = tmp_path / "sanity"
    pickle.loads(pickle.dumps(CreatesMarker(str(sanity)))).close()
    assert sanity.exists()


def test_pickle_file_is_rejected_without_running_it(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": CreatesMarker(str(marker))}))
    assert_rejected(path)
    assert not marker.exists()


def test_object_array_inside_a_valid_manifest_is_rejected_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    evil = npy_bytes(np.array([CreatesMarker(str(marker)), 1], dtype=object), allow_pickle=True)
    for root in ({"type": "ndarray", "entry": "arrays/0.npy"},
                 {"type": "tensor", "entry": "arrays/0.npy", "requires_grad": False}):
        path = tmp_path / "evil.ngd"
        zip_file(path, {"manifest.json": manifest(root), "arrays/0.npy": evil})
        assert_rejected(path)
    plain = tmp_path / "evil.npy"
    plain.write_bytes(evil)
    assert_rejected(plain)
    assert not marker.exists()


def test_unknown_node_types_are_rejected(tmp_path):
    marker = tmp_path / "marker"
    for root in ({"type": "pickle", "entry": "x"}, {"type": "int", "value": "7"},
                 {"type": "dict", "ordered": False, "items": [[{"type": "list", "items": []},
                                                               {"type": "none"}]]},
                 {"type": "ndarray", "entry": "arrays/9.npy"}, ["not", "a", "node"]):
        path = tmp_path / "odd.ngd"
        zip_file(path, {"manifest.json": manifest(root),
                        "x": pickle.dumps(CreatesMarker(str(marker)))})
        assert_rejected(path)
    assert not marker.exists()


def test_foreign_and_corrupt_files_raise_value_error_with_the_path(tmp_path):
    rng = np.random.default_rng(0)
    cases = {
        "random.ngd": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "empty.ngd": b"",
        "plain.npy": npy_bytes(np.arange(5.0)),
        "text.ngd": b"hello world\n",
    }
    for name, payload in cases.items():
        (tmp_path / name).write_bytes(payload)
    np.savez(tmp_path / "arrays.npz", a=np.arange(3))  # a zip without our manifest
    zip_file(tmp_path / "foreign.ngd", {"manifest.json": manifest({"type": "none"}, fmt="other")})
    zip_file(tmp_path / "future.ngd", {"manifest.json": manifest({"type": "none"}, version=99)})
    zip_file(tmp_path / "badjson.ngd", {"manifest.json": b"{not json"})
    zip_file(tmp_path / "noroot.ngd", {"manifest.json": json.dumps({"format": "numbagrad",
                                                                    "version": 1})})
    for name in sorted(os.listdir(tmp_path)):
        assert_rejected(tmp_path / name)
    with pytest.raises(ValueError, match="newer"):
        load(tmp_path / "future.ngd")


def test_array_whose_header_disagrees_with_its_size_is_rejected(tmp_path):
    good = npy_bytes(np.arange(10, dtype=np.float64))
    lying = good.replace(b"(10,)", b"(99,)")  # header claims more data than present
    assert lying != good
    root = {"type": "ndarray", "entry": "arrays/0.npy"}
    for payload in (lying, good[:-8], good + b"\0" * 8):
        path = tmp_path / "lying.ngd"
        zip_file(path, {"manifest.json": manifest(root), "arrays/0.npy": payload})
        assert_rejected(path)


def test_truncated_files_are_rejected(tmp_path):
    source = tmp_path / "good.ngd"
    save(nested_example(), source)
    data = source.read_bytes()
    path = tmp_path / "truncated.ngd"
    for cut in [*range(0, len(data), max(1, len(data) // 40)), len(data) - 1]:
        path.write_bytes(data[:cut])
        assert_rejected(path)


def test_flipped_bytes_are_caught_or_harmless(tmp_path):
    """Corruption anywhere either raises ValueError or (in unused zip metadata) changes nothing."""
    obj = nested_example()
    source = tmp_path / "good.ngd"
    save(obj, source)
    data = source.read_bytes()
    path = tmp_path / "flipped.ngd"
    rng = np.random.default_rng(1)
    rejected = 0
    for position in rng.choice(len(data), 150, replace=False):
        corrupt = bytearray(data)
        corrupt[position] ^= 0xFF
        path.write_bytes(bytes(corrupt))
        try:
            loaded = load(path)
        except ValueError as error:
            assert str(path) in str(error)
            rejected += 1
        else:
            assert_same(obj, loaded)
    assert rejected > 100


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.ngd")


def test_public_names():
    assert autograd.save is save and autograd.load is load
    assert autograd.data.DataLoader is not None
