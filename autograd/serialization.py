"""Save and load nested structures of Tensors, numpy arrays and plain values.

`save(obj, path)` writes a zip archive (uncompressed, like numpy's ``.npz``)
holding a JSON manifest, ``manifest.json``, that describes the structure, and
one ``.npy`` entry per array. Nothing is ever pickled, so `load` cannot run
code from a file; it checks the manifest's magic and version, every array's
header and size, and the zip's CRCs, and turns any defect into a `ValueError`
that names the file.

`load` reads hostile files in bounded time and memory: every member must be
stored uncompressed (what `save` writes), so no decompression bomb can
inflate; each member's declared size must fit inside the file, so nothing is
allocated beyond the file's own size; the manifest is capped at
`MAX_MANIFEST_BYTES`; arrays must have a numeric dtype (bool, integer, float
or complex) and a non-negative shape whose byte size matches the member.

`save` writes atomically (a temporary file renamed over the target), and
only ever replaces a regular file: a directory, FIFO, socket or device at
the path is refused. A symlink is resolved and the file it points to is
replaced, the link kept. Saving over a file keeps its permission bits (and,
where allowed, its owner and group); a new file gets ``0o666 & ~umask`` as
with ``open()``. Temporary files left by killed writers of the same target
(named ``.NAME.HOST.PID.TOKEN.tmp``) are removed by the next save once their
writer's process is gone.

Supported values: `Tensor` (data and ``requires_grad``; comes back as a
Tensor), ``numpy.ndarray`` and numpy scalars (exact dtype and shape, 0-d and
empty included), ``None``, ``bool``, ``int``, ``float``, ``str``, and ``dict``
(keys ``str``, ``int``, ``float``, ``bool`` or ``None``; ``OrderedDict`` kept),
``list`` and ``tuple`` nested to any depth. An object saved twice in one call
(the same Tensor in two places) is stored once and comes back as one object.

Manifest nodes, one JSON object each::

    {"type": "none"}                 {"type": "bool" | "int" | "float" | "str", "value": v}
    {"type": "list" | "tuple", "items": [node, ...]}
    {"type": "dict", "ordered": false, "items": [[key_node, value_node], ...]}
    {"type": "ndarray" | "numpy_scalar", "entry": "arrays/3.npy"}
    {"type": "tensor", "entry": "arrays/4.npy", "requires_grad": true}

A tensor (or a raw array, as optimiser state holds) on the CUDA device is written from a
host copy, and its node gets ``"device": "cuda:0"``; `load` puts it back there (or where
``map_location`` says), as PyTorch restores a tensor to the device it was saved from. A node
without ``"device"`` was on the CPU (every file written before cuda tensors existed).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import math
import os
import secrets
import socket
import stat
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any, Union

import numpy as np

from . import devices
from .kernels.cuda.array import CudaArray, from_host
from .tensor import Tensor

__all__ = ["FORMAT", "VERSION", "load", "save"]

PathLike = Union[str, "os.PathLike[str]"]

FORMAT = "numbagrad"  # magic: the manifest's "format" field
VERSION = 1  # bumped when the manifest changes incompatibly
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20  # ~500k arrays' worth of manifest; a bigger one is refused
_NUMERIC_KINDS = "biufc"  # bool, int, uint, float, complex: the dtypes save writes and load reads

_PLAIN_TYPES = (bool, int, float, str)  # exact types: subclasses (IntEnum, ...) are refused
_PLAIN_NAMES = {bool: "bool", int: "int", float: "float", str: "str"}
_KEY_KINDS = ("none", "bool", "int", "float", "str")
_SUPPORTED = (
    "Tensor, numpy.ndarray, numpy scalar, dict, list, tuple, int, float, bool, str or None"
)


class _CorruptFileError(Exception):
    """Raised while reading; `load` turns it into a ValueError naming the file."""


# --------------------------------------------------------------------------- save


class _Encoder:
    """Turns an object tree into a JSON-able manifest plus a list of arrays to write."""

    def __init__(self) -> None:
        self.arrays: list[tuple[str, np.ndarray]] = []
        self._entries: dict[int, str] = {}  # id(array or tensor) -> entry, for sharing
        self._keep_alive: list[Any] = []  # so ids in _entries are not reused
        self._open: set[int] = set()  # containers on the current path (cycle check)

    def encode(self, obj: Any, where: str) -> dict:
        if isinstance(obj, Tensor):
            node = {"type": "tensor", "entry": self._add_array(obj, obj.data, where),
                    "requires_grad": bool(obj.requires_grad)}
            return _on_device(node, obj.data)
        if isinstance(obj, np.ndarray | CudaArray):
            return _on_device({"type": "ndarray", "entry": self._add_array(obj, obj, where)},
                              obj)
        if isinstance(obj, np.generic):
            return {"type": "numpy_scalar", "entry": self._add_array(obj, np.asarray(obj), where)}
        if obj is None or type(obj) in _PLAIN_TYPES:
            return _encode_plain(obj)
        if isinstance(obj, dict):
            return self._container(obj, where, self._encode_dict)
        if type(obj) in (list, tuple):
            return self._container(obj, where, self._encode_sequence)
        raise TypeError(
            f"cannot save an object of type {type(obj).__qualname__!r} at {where}; "
            f"supported are {_SUPPORTED}"
        )

    def _container(self, obj: Any, where: str, encode: Callable[[Any, str], dict]) -> dict:
        if id(obj) in self._open:
            raise ValueError(f"cannot save a circular reference: {where} contains itself")
        self._open.add(id(obj))
        try:
            return encode(obj, where)
        finally:
            self._open.discard(id(obj))

    def _encode_dict(self, obj: dict, where: str) -> dict:
        items = []
        for key, value in obj.items():
            if not (key is None or type(key) in _PLAIN_TYPES):
                raise TypeError(
                    f"cannot save a dict key of type {type(key).__qualname__!r} at {where}; "
                    "keys must be str, int, float, bool or None"
                )
            items.append([_encode_plain(key), self.encode(value, f"{where}[{key!r}]")])
        return {"type": "dict", "ordered": isinstance(obj, collections.OrderedDict),
                "items": items}

    def _encode_sequence(self, obj: list | tuple, where: str) -> dict:
        return {"type": type(obj).__name__,
                "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}

    def _add_array(self, owner: Any, array: np.ndarray, where: str) -> str:
        if id(owner) in self._entries:
            return self._entries[id(owner)]
        if isinstance(array, CudaArray):
            array = array.get()  # the host copy is what the file holds
        array = np.asarray(array)  # a memmap or other subclass is stored as a plain array
        if array.dtype.hasobject:
            raise TypeError(
                f"cannot save an array of dtype {array.dtype} at {where}: object arrays "
                "would need pickle"
            )
        if array.dtype.kind not in _NUMERIC_KINDS or array.dtype.itemsize == 0:
            raise TypeError(
                f"cannot save an array of dtype {array.dtype} at {where}: only bool, integer, "
                "float and complex arrays are supported"
            )
        entry = f"arrays/{len(self.arrays)}.npy"
        self.arrays.append((entry, array))
        self._entries[id(owner)] = entry
        self._keep_alive.append(owner)
        return entry


def _on_device(node: dict, array: Any) -> dict:
    """The node, marked with the device of a cuda array (CPU arrays stay unmarked)."""
    if isinstance(array, CudaArray):
        node["device"] = array.device
    return node


def _encode_plain(value: Any) -> dict:
    """Encode None / bool / int / float / str (exact types, checked by the caller)."""
    if value is None:
        return {"type": "none"}
    if type(value) is float and not math.isfinite(value):
        return {"type": "float", "value": repr(value)}  # "nan", "inf", "-inf": not JSON numbers
    return {"type": _PLAIN_NAMES[type(value)], "value": value}


def _write_archive(file: IO[bytes], manifest: dict, arrays: list[tuple[str, np.ndarray]]) -> None:
    """Write the manifest and every array into an uncompressed zip on `file`."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, allow_nan=False))
        for entry, array in arrays:
            big = array.nbytes > (1 << 30)  # zip64 headers for entries that may pass 2 GiB
            with archive.open(entry, "w", force_zip64=big) as out:
                np.lib.format.write_array(out, array, allow_pickle=False)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; not possible (nor needed) on every platform."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _host_tag() -> str:
    """8 hex digits naming this machine in temporary file names, so that a save never judges
    by pid whether a writer on another host (a shared file system) is still alive."""
    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """Create a fresh file next to the target (umask-respecting permissions), named
    ``.NAME.HOST.PID.TOKEN.tmp`` so that a later save can tell whether its writer died."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(
            directory, f".{name}.{_host_tag()}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def _process_is_alive(pid: int) -> bool:
    """False only when no process `pid` exists (on this host); True when unsure."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: alive, another user's
        return True
    return True


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete temporary files of earlier saves to `name` whose writer was killed (kill -9,
    power loss before the rename): only ours by name, only from this host, only when their
    process no longer exists. A live writer's file, in this process or another, is never
    touched; a file whose pid was reused by an unrelated process is left (harmless)."""
    if os.name != "posix":
        return
    prefix, host, me = f".{name}.", _host_tag(), os.getpid()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        parts = entry.name[len(prefix):-len(".tmp")].split(".")
        if len(parts) != 3:  # another target's temporary (its name has more dots), or foreign
            continue
        tag, pid_text, token = parts
        if tag != host or not (pid_text.isascii() and pid_text.isdigit()) or len(token) != 12:
            continue
        pid = int(pid_text)
        if pid == me or _process_is_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


def _describe(mode: int) -> str:
    """What a non-regular, non-directory file is, in words, for the error message."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    for test, kind in kinds:
        if test(mode):
            return kind
    return "not a regular file"


def _resolve_target(path: PathLike) -> tuple[str, os.stat_result | None]:
    """The file to replace and its stat (None for a new path), refusing anything that is not
    a regular file: replacing a FIFO or /dev/null with a checkpoint would break the system."""
    target = os.fsdecode(os.fspath(path))
    if os.path.islink(target):  # replace the file the link points to, keep the link
        target = os.path.realpath(target)
    if not os.path.basename(target):  # "dir/": only a directory can end with a separator
        raise IsADirectoryError(errno.EISDIR, "cannot save: the path names a directory", target)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return target, None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "cannot save: the path is a directory", target)
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(
            f"cannot save to '{target}': it is {_describe(status.st_mode)}; save only replaces "
            "regular files (or creates a new one)"
        )
    if not os.access(target, os.W_OK):  # what open(target, "wb") would refuse
        raise PermissionError(errno.EACCES, "cannot save: the file is not writable", target)
    return target, status


def _copy_ownership_and_mode(fd: int, status: os.stat_result) -> None:
    """Give the temporary file the replaced file's owner, group (where permitted) and mode."""
    if hasattr(os, "fchown") and (status.st_uid, status.st_gid) != os.fstat(fd)[4:6]:
        with contextlib.suppress(OSError):  # only root may give a file away
            os.fchown(fd, status.st_uid, status.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(status.st_mode))


def save(obj: Any, path: PathLike) -> None:
    """Write `obj` (nested dict / list / tuple of Tensors, arrays, plain values) to `path`.

    The write is atomic: everything goes to a temporary file in the same
    directory, which is flushed, fsync'ed and then renamed onto `path`. If
    anything fails the temporary file is removed and an existing file at
    `path` is left untouched. Unsupported values raise `TypeError` naming
    their type and where they sit (e.g. ``obj['state'][0]['buf']``) before
    anything is written.

    `path` must be a new path or a regular file (whose mode is kept); a
    symlink is followed and its target replaced. A directory raises
    `IsADirectoryError`, a FIFO, socket or device `ValueError`, a file that
    is not writable `PermissionError`. Temporary files of the same target
    left by killed writers are removed first.
    """
    encoder = _Encoder()
    manifest = {"format": FORMAT, "version": VERSION, "root": encoder.encode(obj, "obj")}

    target, status = _resolve_target(path)
    directory = os.path.dirname(os.path.abspath(target))
    name = os.path.basename(target)
    _remove_stale_temporaries(directory, name)
    fd, temporary = _create_temporary(directory, name)
    try:
        with os.fdopen(fd, "wb") as file:
            if status is not None:
                _copy_ownership_and_mode(file.fileno(), status)
            _write_archive(file, manifest, encoder.arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


# --------------------------------------------------------------------------- load


class _Decoder:
    """Rebuilds the object tree from a manifest, reading arrays from the archive."""

    def __init__(self, archive: zipfile.ZipFile, archive_size: int,
                 place: Callable[[str], str]) -> None:
        self.archive = archive
        self.archive_size = archive_size
        self.place = place  # saved location -> "cpu" or "cuda" (map_location's answer)
        self.locations: dict[int, str] = {}  # id(loaded Tensor) -> the location it was saved on
        self._loaded: dict[tuple[str, str], Any] = {}  # (type, entry) -> object, for sharing

    def decode(self, node: Any, where: str) -> Any:
        kind = _field(node, "type", str, where)
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            return _field(node, "value", {"bool": bool, "int": int, "str": str}[kind], where)
        if kind == "float":
            return _decode_float(node, where)
        if kind in ("list", "tuple"):
            items = _field(node, "items", list, where)
            values = [self.decode(item, f"{where}[{i}]") for i, item in enumerate(items)]
            return values if kind == "list" else tuple(values)
        if kind == "dict":
            return self._decode_dict(node, where)
        if kind in ("ndarray", "numpy_scalar", "tensor"):
            return self._decode_array(kind, node, where)
        raise _CorruptFileError(f"unknown node type {kind!r} at {where}")

    def _decode_dict(self, node: dict, where: str) -> dict:
        ordered = _field(node, "ordered", bool, where)
        result: dict = collections.OrderedDict() if ordered else {}
        for pair in _field(node, "items", list, where):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise _CorruptFileError(f"malformed dict item at {where}")
            if _field(pair[0], "type", str, where) not in _KEY_KINDS:
                raise _CorruptFileError(f"unsupported dict key at {where}")
            key = self.decode(pair[0], f"{where} (a key)")
            result[key] = self.decode(pair[1], f"{where}[{key!r}]")
        return result

    def _decode_array(self, kind: str, node: dict, where: str) -> Any:
        entry = _field(node, "entry", str, where)
        if (kind, entry) in self._loaded:
            return self._loaded[(kind, entry)]
        array = _read_npy(self.archive, entry, self.archive_size)
        location = _location(node, where) if kind != "numpy_scalar" else "cpu"
        on_cuda = self.place(location) == "cuda"
        if kind == "ndarray":
            value: Any = from_host(array) if on_cuda else array
            if location != "cpu" and not on_cuda:
                self.locations[id(value)] = location  # for map_location's callable
        elif kind == "numpy_scalar":
            if array.ndim != 0:
                raise _CorruptFileError(
                    f"numpy scalar at {where} is stored with shape {array.shape}"
                )
            value = array[()]
        else:
            value = Tensor(array, requires_grad=_field(node, "requires_grad", bool, where))
            if on_cuda:
                value = Tensor.wrap(from_host(array), requires_grad=value.requires_grad)
            self.locations[id(value)] = location
        self._loaded[(kind, entry)] = value
        return value


def _location(node: dict, where: str) -> str:
    """The device a node's array was saved from: "cpu" (no "device" field) or "cuda:N"."""
    if "device" not in node:
        return "cpu"
    location = _field(node, "device", str, where)
    try:
        dev = devices.device(location)
    except (RuntimeError, ValueError, TypeError):
        raise _CorruptFileError(f"unknown device {location!r} at {where}") from None
    return _name(dev)


def _name(dev: devices.device) -> str:
    """A device's location string as PyTorch's: "cpu" or "cuda:N" (N = 0 when unnamed)."""
    return "cpu" if dev.type == "cpu" else f"cuda:{dev.index or 0}"


def _field(node: Any, name: str, kind: type, where: str) -> Any:
    """node[name], checked to be a dict field of exactly type `kind`."""
    if not isinstance(node, dict) or name not in node:
        raise _CorruptFileError(f"manifest node at {where} has no {name!r} field")
    value = node[name]
    if type(value) is not kind:
        raise _CorruptFileError(f"manifest field {name!r} at {where} is not a {kind.__name__}")
    return value


def _decode_float(node: dict, where: str) -> float:
    value = node.get("value") if isinstance(node, dict) else None
    if type(value) is float:
        return value
    if type(value) is int:  # a JSON writer may print 1.0 as 1
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    raise _CorruptFileError(f"malformed float at {where}")


def _stored_member(info: zipfile.ZipInfo, archive_size: int, what: str) -> None:
    """Check that a member is stored plainly and that its declared size fits in the file.

    `save` never compresses, so a compressed member can only be a forgery (a decompression
    bomb: 1 KB of bzip2 inflating to 1 GiB), and a declared size beyond the end of the file
    (a forged zip64 size of 7 TiB) can only be a lie: both are refused before anything is
    read or allocated, so loading costs at most about the file's own size in memory.
    """
    if info.compress_type != zipfile.ZIP_STORED:
        raise _CorruptFileError(f"{what} is compressed; numbagrad files store every member "
                                "uncompressed")
    if info.compress_size != info.file_size:
        raise _CorruptFileError(f"{what} declares {info.file_size} bytes but stores "
                                f"{info.compress_size}")
    if info.header_offset + info.compress_size > archive_size:
        raise _CorruptFileError(f"{what} declares {info.file_size} bytes, more than the whole "
                                f"file ({archive_size} bytes)")


def _read_npy(archive: zipfile.ZipFile, entry: str, archive_size: int) -> np.ndarray:
    """Read one ``.npy`` entry without pickle, checking its header against its size.

    The data size implied by the header must equal the entry's size exactly,
    so a corrupt header can neither make us allocate a huge array nor leave
    part of the data unread. Reading to the end also makes zipfile check the
    entry's CRC.
    """
    try:
        info = archive.getinfo(entry)
    except KeyError:
        raise _CorruptFileError(
            f"the manifest names an array {entry!r} that the archive lacks"
        ) from None
    _stored_member(info, archive_size, f"array {entry!r}")
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise _CorruptFileError(f"array {entry!r} has unknown .npy version {version}")
        if dtype.hasobject:
            raise _CorruptFileError(f"array {entry!r} holds Python objects (dtype {dtype}); "
                               "refusing to unpickle")
        if dtype.kind not in _NUMERIC_KINDS or dtype.itemsize == 0:  # e.g. |V0: 0 bytes each
            raise _CorruptFileError(f"array {entry!r} has dtype {dtype.str!r}; numbagrad files "
                                    "hold only bool, integer, float and complex arrays")
        if any(n < 0 for n in shape):
            raise _CorruptFileError(f"array {entry!r} has a negative shape {shape}")
        header_size = stream.tell()
        count = math.prod(shape)
        if header_size + count * dtype.itemsize != info.file_size:
            raise _CorruptFileError(
                f"array {entry!r} of shape {shape} and dtype {dtype} needs "
                f"{count * dtype.itemsize} bytes but the entry holds "
                f"{info.file_size - header_size}"
            )
        flat = np.empty(count, dtype=dtype)
        if flat.nbytes:
            buffer = memoryview(flat.view(np.uint8))
            filled = 0
            while filled < len(buffer):
                n = stream.readinto(buffer[filled:])
                if not n:
                    raise _CorruptFileError(f"array {entry!r} is truncated")
                filled += n
        if stream.read(1):  # reading to the end also verifies the CRC
            raise _CorruptFileError(f"array {entry!r} has trailing bytes")
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


def _read_manifest(archive: zipfile.ZipFile, archive_size: int) -> bytes:
    """The manifest's bytes: stored plainly, at most MAX_MANIFEST_BYTES (checked while reading
    too, in case the declared size lies), its CRC checked."""
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise _CorruptFileError(
            f"a zip archive without {MANIFEST!r}, not a numbagrad file"
        ) from None
    _stored_member(info, archive_size, repr(MANIFEST))
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _CorruptFileError(f"{MANIFEST!r} declares {info.file_size} bytes; at most "
                                f"{MAX_MANIFEST_BYTES} are accepted")
    with archive.open(info) as stream:
        raw = stream.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES or stream.read(1):
            raise _CorruptFileError(f"{MANIFEST!r} is larger than {MAX_MANIFEST_BYTES} bytes")
    return raw


def _read_archive(file: IO[bytes], place: Callable[[str], str]) -> tuple:
    archive_size = os.fstat(file.fileno()).st_size
    with zipfile.ZipFile(file, "r") as archive:
        manifest = json.loads(_read_manifest(archive, archive_size).decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise _CorruptFileError(f"{MANIFEST!r} does not describe a numbagrad file")
        version = manifest.get("version")
        if type(version) is not int or version < 1:
            raise _CorruptFileError(f"malformed format version {version!r}")
        if version > VERSION:
            raise _CorruptFileError(
                f"written by a newer numbagrad (format version {version}; this one reads "
                f"up to {VERSION})"
            )
        if "root" not in manifest:
            raise _CorruptFileError(f"{MANIFEST!r} has no 'root'")
        decoder = _Decoder(archive, archive_size, place)
        return decoder.decode(manifest["root"], "obj"), decoder.locations


def load(path: PathLike, map_location: Any = None, weights_only: bool | None = True, *,
         mmap: bool | None = None) -> Any:
    """Read back what `save` wrote: Tensors as Tensors, arrays with exact dtype and shape.

    A missing file raises `FileNotFoundError`. Anything that is not an intact
    numbagrad file (truncated, corrupt, random bytes, a plain ``.npy``, a zip
    without our manifest, a pickle) raises `ValueError` naming `path`. Nothing
    is ever unpickled, so loading cannot execute code from the file.

    Devices as PyTorch's: each tensor (and raw array) goes back to the device it was saved
    from ("cpu" or "cuda:0") unless `map_location` says otherwise: a device string or
    `device` (every tensor there), a dict mapping saved locations to devices (locations it
    does not name stay), or a callable ``f(tensor, location)`` given each tensor on the CPU
    with its saved location, returning a replacement Tensor or None (back to the saved
    location). A CUDA target raises `RuntimeError` when ``autograd.cuda.is_available()`` is
    False, as on a CPU-only PyTorch build. `weights_only` and `mmap` change nothing: the
    format never holds code, and arrays are read whole.
    """
    place, relocate = _map_location(map_location)
    name = os.fsdecode(os.fspath(path))
    with open(name, "rb") as file:  # a missing file raises FileNotFoundError here
        try:
            obj, locations = _read_archive(file, place)
        except _CorruptFileError as error:
            raise ValueError(f"cannot load '{name}': {error}") from None
        except (MemoryError, _DeviceError):  # a cuda target without a GPU: as PyTorch's
            raise
        except Exception as error:  # zipfile, json, .npy header parsing...: all mean corrupt
            raise ValueError(
                f"cannot load '{name}': not an intact numbagrad file "
                f"({type(error).__name__}: {error})"
            ) from error
    return obj if relocate is None else _relocate(obj, relocate, locations, {})


class _DeviceError(RuntimeError):
    """A map_location target (or a saved device) that this machine has not got."""


_CUDA_TARGET = ("load: attempting to deserialize object on a CUDA device ({}) but "
                "autograd.cuda.is_available() is False; use map_location='cpu'")


def _target(target: Any) -> str:
    """"cpu" or "cuda" for a map_location target, checked: a device string or device on
    which tensors can live here."""
    if not isinstance(target, (str, devices.device)):
        raise TypeError(f"load: map_location targets must be device strings or devices, got "
                        f"{type(target).__name__} {target!r}")
    dev = devices.device(target)
    if dev.type == "cuda":
        from . import cuda
        if not cuda.is_available():
            raise _DeviceError(_CUDA_TARGET.format(repr(str(dev))))
        if (dev.index or 0) >= cuda.device_count():
            raise _DeviceError(f"load: attempting to deserialize object on CUDA device "
                               f"{str(dev)!r} but there are only {cuda.device_count()} "
                               f"devices")
    return dev.type


def _map_location(spec: Any) -> tuple:
    """(place, callable): `place(location)` says where an array saved on `location` goes
    ("cpu" or "cuda", checked when first asked), and the callable to apply to each loaded
    Tensor afterwards (or None)."""
    if spec is None:
        return _target, None
    if isinstance(spec, (str, devices.device)):
        target = _target(spec)
        return (lambda location: target), None
    if isinstance(spec, dict):
        mapping = {}
        for source, target in spec.items():
            if not isinstance(source, (str, devices.device)):
                raise TypeError(f"load: map_location keys must be device strings, got "
                                f"{type(source).__name__} {source!r}")
            if not isinstance(target, (str, devices.device)):
                raise TypeError(f"load: map_location targets must be device strings or "
                                f"devices, got {type(target).__name__} {target!r}")
            mapping[_name(devices.device(source))] = target
        return (lambda location: _target(mapping.get(location, location))), None
    if callable(spec):
        return (lambda location: "cpu"), spec
    raise TypeError(f"load: map_location must be None, a device string, a device, a dict or "
                    f"a callable, got {type(spec).__name__} {spec!r}")


def _relocate(obj: Any, fn: Callable, locations: dict, memo: dict) -> Any:
    """Apply map_location's callable to every Tensor in the loaded tree (once per Tensor:
    a Tensor stored in two places stays one object); None puts it on its saved device."""
    if isinstance(obj, Tensor):
        if id(obj) not in memo:
            location = locations.get(id(obj), "cpu")
            result = fn(obj, location)
            if result is not None and not isinstance(result, Tensor):
                raise TypeError(f"load: map_location's callable must return a Tensor or None, "
                                f"got {type(result).__name__}")
            if result is None and _target(location) == "cuda":
                result = Tensor.wrap(from_host(obj.data), requires_grad=obj.requires_grad)
            memo[id(obj)] = obj if result is None else result
        return memo[id(obj)]
    if isinstance(obj, dict):
        out = type(obj)()
        for key, value in obj.items():
            out[key] = _relocate(value, fn, locations, memo)
        return out
    if isinstance(obj, (list, tuple)):
        values = [_relocate(value, fn, locations, memo) for value in obj]
        return values if isinstance(obj, list) else tuple(values)
    if isinstance(obj, np.ndarray) and id(obj) in locations:  # a raw array saved on cuda
        if id(obj) not in memo:
            on_cuda = _target(locations[id(obj)]) == "cuda"
            memo[id(obj)] = from_host(obj) if on_cuda else obj
        return memo[id(obj)]
    return obj
