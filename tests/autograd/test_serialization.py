"""Tests for autograd.serialization: exact round trips, atomic writes, hostile files."""

import collections
import io
import json
import math
import os
import pickle
import re
import signal
import stat
import struct
import subprocess
import sys
import time
import zipfile
import zlib

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


# --------------------------------------------------------------------------- bombs and lies
# zipfile cannot write members whose declared sizes lie, nor store pre-compressed bombs: the
# hostile archives below are written by hand (local headers, central directory, end record).


def raw_zip(path, members):
    """Write a zip of `members`: (name, data, method, file_size, compress_size, crc) each, the
    sizes being what the headers declare (zip64 extra fields where they need 64 bits)."""
    out, central = bytearray(), bytearray()
    for name, data, method, file_size, compress_size, crc in members:
        encoded = name.encode()
        big = max(file_size, compress_size) >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, file_size, compress_size) if big else b""
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (compress_size, file_size)
        version, offset = (45 if big else 20), len(out)
        out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", version, 0, 0, method, 0, 0x21, crc,
                           *sizes, len(encoded), len(extra)) + encoded + extra + data
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", version, 3, version, 0, 0,
                               method, 0, 0x21, crc, *sizes, len(encoded), len(extra), 0, 0, 0,
                               0o100644 << 16, offset) + encoded + extra
    n = len(members)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out),
                                 0)
    path.write_bytes(bytes(out))


def stored(name, data, declared=None):
    size = len(data) if declared is None else declared
    return (name, data, zipfile.ZIP_STORED, size, size, zlib.crc32(data))


VALID_MANIFEST = manifest({"type": "none"}).encode()


def deflate_bomb(prefix, total):
    """A raw deflate stream of `prefix` and then spaces, `total` bytes in all, ~1000x smaller:
    after a full flush the compressor forgets its window, so one 1 MiB block repeats."""
    chunk = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    count = (total - len(prefix)) // len(chunk)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    return head + block * count + compressor.flush(), len(prefix) + count * len(chunk), crc


def test_deflate_bomb_helper_really_inflates():
    data, size, crc = deflate_bomb(b"{}", 2 + (3 << 20))
    inflated = zlib.decompressobj(-15).decompress(data)
    assert len(inflated) == size == 2 + (3 << 20) and zlib.crc32(inflated) == crc
    assert len(data) < size // 500


LOAD_IN_A_BOX = r"""
import resource, sys
import autograd
status = open("/proc/self/status").read() if sys.platform == "linux" else ""
vm = [int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize")]
if vm:  # at most 768 MiB more than the interpreter already maps: a bomb gets MemoryError
    resource.setrlimit(resource.RLIMIT_AS, (vm[0] + (768 << 20),) * 2)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in sys.argv[1:]:
    try:
        autograd.load(path)
        outcome = "loaded"
    except BaseException as error:
        outcome = type(error).__name__ + ": " + str(error).replace("\n", " ")
    print(outcome, flush=True)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024
print(f"rss_growth_mib {grown}")
"""


def load_in_a_box(paths, timeout=60):
    """Load each path in a child with an address-space limit and a timeout: one line each."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        proc = subprocess.run([sys.executable, "-c", LOAD_IN_A_BOX, *map(str, paths)],
                              cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load hung for {timeout} s")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == len(paths) + 1, proc.stderr[-2000:]
    return lines[:-1], int(lines[-1].split()[1])


def test_manifest_bombs_and_forged_sizes_are_refused_in_bounded_memory(tmp_path):
    """Regression: a deflate manifest inflating to 1 GiB (1 MB file) was read whole (RSS
    2.1 GB, MemoryError here); a 466-byte file with dtype |V0 and 10**15 elements hung; a
    forged zip64 size of 7 TiB raised MemoryError. Each is now a ValueError at once."""
    bomb, size, crc = deflate_bomb(VALID_MANIFEST, 1 << 30)
    raw_zip(tmp_path / "bomb.ngd", [("manifest.json", bomb, zipfile.ZIP_DEFLATED, size,
                                     len(bomb), crc)])

    def npy_header(descr, shape):
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": descr, "fortran_order": False, "shape": shape})
        return buffer.getvalue()

    array_root = manifest({"type": "ndarray", "entry": "arrays/0.npy"}).encode()
    void = npy_header("|V0", (10**15,))  # 0 bytes per element: the size check passes
    raw_zip(tmp_path / "void.ngd", [stored("manifest.json", array_root),
                                    stored("arrays/0.npy", void)])
    header = npy_header("<f8", (7 << 37,))  # 7 TiB of float64, declared consistently
    raw_zip(tmp_path / "zip64.ngd", [stored("manifest.json", array_root),
                                     stored("arrays/0.npy", header + b"\0" * 8,
                                            declared=len(header) + (7 << 40))])
    assert os.path.getsize(tmp_path / "void.ngd") < 600
    assert os.path.getsize(tmp_path / "bomb.ngd") < 2 << 20
    outcomes, grown = load_in_a_box([tmp_path / n for n in ("bomb.ngd", "void.ngd",
                                                             "zip64.ngd")])
    for name, outcome in zip(("bomb.ngd", "void.ngd", "zip64.ngd"), outcomes, strict=True):
        assert outcome.startswith("ValueError: cannot load") and name in outcome, outcome
    assert "compressed" in outcomes[0]
    assert "|V0" in outcomes[1]
    assert "more than the whole file" in outcomes[2]
    assert grown < 100  # MiB: nothing was inflated or allocated


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compressed_manifest_is_refused(tmp_path, method):
    """save stores every member plainly; a compressed manifest (a bomb, or foreign) is refused
    before a byte is inflated, whatever the compressor."""
    path = tmp_path / "compressed.ngd"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("manifest.json", VALID_MANIFEST + b" " * (1 << 20))
    assert os.path.getsize(path) < 20_000
    with pytest.raises(ValueError, match="manifest.json.*compressed"):
        load(path)


def test_manifest_size_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_MANIFEST_BYTES", 1000)
    path = tmp_path / "big.ngd"
    raw_zip(path, [stored("manifest.json", VALID_MANIFEST + b" " * 2000)])
    with pytest.raises(ValueError, match="at most 1000"):
        load(path)
    raw_zip(path, [stored("manifest.json", VALID_MANIFEST + b" " * 900)])
    assert load(path) is None  # under the cap: fine


@pytest.mark.parametrize(
    "member, match",
    [
        # a compressed array whose declared size lies (inflates to far more than declared)
        (("arrays/0.npy", zlib.compress(npy_bytes(np.zeros(1 << 16)))[2:-4],
          zipfile.ZIP_DEFLATED, 136, 200, 0), "compressed"),
        # stored, but declaring a different compressed and uncompressed size
        (("arrays/0.npy", npy_bytes(np.zeros(4)), zipfile.ZIP_STORED, 160, 150, 0),
         "declares 160 bytes but stores 150"),
    ],
)
def test_array_members_whose_sizes_lie_are_refused(tmp_path, member, match):
    path = tmp_path / "lying.ngd"
    raw_zip(path, [stored("manifest.json",
                          manifest({"type": "ndarray", "entry": "arrays/0.npy"}).encode()),
                   member])
    with pytest.raises(ValueError, match=match):
        load(path)


@pytest.mark.parametrize(
    "array",
    [np.array(["ab", "c"]), np.array([b"ab"]), np.array(["2020-01-01"], dtype="M8[D]"),
     np.array([1], dtype="m8[s]"), np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
     np.zeros(3, dtype="V8"), np.zeros(4, dtype="V0")],
    ids=["str", "bytes", "datetime", "timedelta", "structured", "void", "void0"],
)
def test_non_numeric_dtypes_are_refused_by_load_and_by_save(tmp_path, array):
    """Only bool, integer, float and complex arrays are read (a zero-byte dtype made a
    size check pass for 10**15 elements) -- and save refuses the others up front, so it never
    writes a file that load would refuse."""
    path = tmp_path / "odd.ngd"
    zip_file(path, {"manifest.json": manifest({"type": "ndarray", "entry": "arrays/0.npy"}),
                    "arrays/0.npy": npy_bytes(array)})
    with pytest.raises(ValueError, match=re.escape(array.dtype.str if array.dtype.fields is None
                                                   else "dtype")):
        load(path)
    with pytest.raises(TypeError, match="only bool, integer, float and complex"):
        save({"x": array}, tmp_path / "new.ngd")
    assert not (tmp_path / "new.ngd").exists()


def test_every_numeric_dtype_still_round_trips(tmp_path):
    arrays = [np.arange(3, dtype=t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8,
                                              np.uint16, np.uint32, np.uint64, np.float16,
                                              np.float32, np.float64, np.longdouble,
                                              np.complex64, np.complex128)]
    arrays += [np.array([True, False]), np.zeros((0, 2), dtype=np.float32),
               np.arange(4.0).astype(">f8")]
    assert_same(round_trip(arrays, tmp_path), arrays)


def test_negative_shape_is_refused(tmp_path):
    data = npy_bytes(np.zeros(8)).replace(b"(8,)", b"(-2, -4)")
    path = tmp_path / "negative.ngd"
    zip_file(path, {"manifest.json": manifest({"type": "ndarray", "entry": "arrays/0.npy"}),
                    "arrays/0.npy": data})
    with pytest.raises(ValueError, match="negative shape"):
        load(path)


# --------------------------------------------------------------------------- what save replaces


def make_special(tmp_path, kind):
    """A FIFO, a unix socket or a character device (a copy of /dev/null's node) in tmp_path."""
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
        return path, stat.S_ISFIFO, None
    if kind == "socket":
        import socket

        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return path, stat.S_ISSOCK, server
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.geteuid() == 0:  # root without CAP_MKNOD: never aim a save at the real one
            pytest.skip("cannot create a device node here")
        return "/dev/null", stat.S_ISCHR, None  # not root: save could not replace it anyway
    return path, stat.S_ISCHR, None


@pytest.mark.parametrize("kind, words", [("fifo", "FIFO"), ("socket", "socket"),
                                         ("chardev", "character device")])
def test_save_refuses_fifos_sockets_and_devices(tmp_path, kind, words):
    """Regression: save renamed its temporary file over whatever was at the path, so
    `save(obj, "/dev/null")` as root replaced the system's /dev/null with a checkpoint."""
    path, is_kind, keep = make_special(tmp_path, kind)
    before = set(os.listdir(tmp_path))
    try:
        with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + words):
            save({"w": np.ones(3)}, path)
        assert is_kind(os.lstat(path).st_mode)  # untouched
        link = tmp_path / "link"
        link.symlink_to(path)
        with pytest.raises(ValueError, match=words):
            save({"w": np.ones(3)}, link)  # through a symlink: the same refusal
        assert is_kind(os.lstat(path).st_mode) and link.is_symlink()
        assert set(os.listdir(tmp_path)) == before | {"link"}  # no temporary file left
    finally:
        if keep is not None:
            keep.close()


def test_save_refuses_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    for path in (tmp_path / "d", str(tmp_path / "d") + os.sep, str(tmp_path / "new") + os.sep):
        with pytest.raises(IsADirectoryError):
            save({"a": 1}, path)
    assert sorted(os.listdir(tmp_path)) == ["d"] and os.listdir(tmp_path / "d") == []


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    """Regression: saving over a mode-0600 checkpoint left it 0644 (readable by everyone)."""
    path = tmp_path / "secret.ngd"
    save({"v": 1}, path)
    for mode in (0o600, 0o640, 0o755):
        os.chmod(path, mode)
        save({"v": mode}, path)
        assert stat.S_IMODE(os.stat(path).st_mode) == mode and load(path) == {"v": mode}
    link = tmp_path / "link.ngd"
    link.symlink_to(path)
    os.chmod(path, 0o600)
    save({"v": 2}, link)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and link.is_symlink()


def test_a_new_file_gets_the_umask_like_open(tmp_path):
    old = os.umask(0o077)
    try:
        save({"v": 1}, tmp_path / "a.ngd")
        os.umask(0o022)
        save({"v": 1}, tmp_path / "b.ngd")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.ngd").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "b.ngd").st_mode) == 0o644


def test_read_only_file_is_replaced_only_where_open_would_write_it(tmp_path):
    path = tmp_path / "ro.ngd"
    save({"v": 1}, path)
    os.chmod(path, 0o444)
    if os.access(path, os.W_OK):  # root: open(path, "wb") would succeed, and so does save
        save({"v": 2}, path)
        assert load(path) == {"v": 2} and stat.S_IMODE(os.stat(path).st_mode) == 0o444
    else:
        with pytest.raises(PermissionError):
            save({"v": 2}, path)
        assert load(path) == {"v": 1}


def test_dangling_symlink_creates_its_target_and_keeps_the_link(tmp_path):
    link, target = tmp_path / "link.ngd", tmp_path / "target.ngd"
    link.symlink_to(target)
    save({"v": 3}, link)
    assert link.is_symlink() and target.is_file() and load(target) == {"v": 3}


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: no process has this pid (until the kernel reuses it)
    return proc.pid


def test_stale_temporaries_of_dead_writers_are_removed_and_no_other(tmp_path):
    path = tmp_path / "ckpt.ngd"
    save({"v": 1}, path)
    host = serialization._host_tag()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = dead_pid()
        names = {
            "stale": f".ckpt.ngd.{host}.{dead}.0123456789ab.tmp",
            "live writer": f".ckpt.ngd.{host}.{sleeper.pid}.0123456789ab.tmp",
            "this process": f".ckpt.ngd.{host}.{os.getpid()}.0123456789ab.tmp",
            "another host": f".ckpt.ngd.{'0' * 8 if host != '0' * 8 else '1' * 8}.{dead}."
                            "0123456789ab.tmp",
            "another target": f".ckpt.ngd.x.{host}.{dead}.0123456789ab.tmp",
            "not ours": f".ckpt.ngd.{host}.{dead}.short.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        save({"v": 2}, path)
    finally:
        sleeper.kill()
        sleeper.wait()
    left = set(os.listdir(tmp_path))
    assert names["stale"] not in left
    assert left == {"ckpt.ngd", *names.values()} - {names["stale"]}
    assert load(path) == {"v": 2}


KILLED_WRITER = r"""
import sys
import numpy as np
import autograd
big = np.random.default_rng(0).random(int(sys.argv[2]))
print("writing", flush=True)
autograd.save({"w": big}, sys.argv[1])
"""


def test_killed_writer_leaves_no_temporary_after_the_next_save(tmp_path):
    """Regression: kill -9 during a save left its temporary file (13 kills of a 256 MB save:
    2 GiB of litter) forever. The old file stays intact, and the next save cleans up."""
    path = tmp_path / "ckpt.ngd"
    save({"epoch": 1}, path)
    for size in (1 << 23, 1 << 25):  # 64 MiB, then 256 MiB if the child was too quick
        child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(size)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "writing"
            seen, deadline = None, time.monotonic() + 60
            while seen is None and child.poll() is None and time.monotonic() < deadline:
                temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
                if temps and os.path.getsize(tmp_path / temps[0]) > 0:
                    seen = temps[0]
                    os.kill(child.pid, signal.SIGKILL)  # mid-write
        finally:
            child.kill()
            child.wait(60)
            child.stdout.close()
        if seen is not None and (tmp_path / seen).exists():
            break
    else:
        pytest.fail("could not catch the writer mid-save")
    assert load(path) == {"epoch": 1}  # the kill left the old checkpoint intact
    save({"epoch": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.ngd"] and load(path) == {"epoch": 2}
