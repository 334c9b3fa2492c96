"""OpenJPEG on memory streams, through glymur's ctypes structures.

glymur's own API writes and reads files only. This module drives libopenjp2 with glymur's
ctypes structures on OpenJPEG's user-defined stream callbacks, so a timing measures OpenJPEG
rather than a file round trip per image.

Which libopenjp2: the newest of the one glymur loads (the system's, or whatever glymur's
configuration names) and the copies bundled in installed wheels (imagecodecs' and Pillow's,
under ``site-packages/imagecodecs.libs`` and ``pillow.libs``). They share one ABI (soname libopenjp2.so.7) and glymur's
structures describe them all. The version matters for speed: OpenJPEG 2.5.0 (Debian 12)
runs all 128 steps of the fixed-quality rate allocation's bisection on every image, 2.5.1 and
later stop when the threshold settles, which makes encoding about twice as fast on MNIST
digits. ``COMPBENCH_OPENJPEG=glymur`` keeps glymur's own library, ``COMPBENCH_OPENJPEG=PATH``
names one; the run's manifest records the version and file used.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import struct
import sys
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

SOC_SIZ = b"\xff\x4f\xff\x51"
SOT = b"\xff\x90"  # start of the first tile-part: everything before it is the main header
#: the largest image (H * W * channels) coded, and the most tiles a codestream may declare:
#: a corrupt SIZ marker would otherwise make OpenJPEG allocate and decode gigabytes (28 x 2**21
#: samples from one flipped bit in an MNIST codestream took a second) before failing
MAX_SAMPLES = 1 << 24
MAX_TILES = 4096
STREAM_CHUNK = 1 << 16  # OpenJPEG's stream buffer; its 1 MiB default costs an mmap per image

# ---------------------------------------------------------------------------------------------

_EOF = ctypes.c_size_t(-1).value  # OpenJPEG's (OPJ_SIZE_T)-1: "end of stream"
#: read and write: (buffer, byte count, user data) -> bytes moved
_IO_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
_SKIP_FN = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
_SEEK_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p)
_MSG_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


class _Buffer:
    """One stream's bytes (read from ``bytes``, written into a ``bytearray``) and position,
    plus the error messages OpenJPEG reported while using it."""

    __slots__ = ("data", "pos", "errors", "readonly")

    def __init__(self, data: bytes | bytearray) -> None:
        self.data, self.pos, self.errors = data, 0, []
        self.readonly = isinstance(data, bytes)


# Callbacks get an integer key (OpenJPEG's user-data pointer), not a Python object: nothing
# to keep alive by hand, and concurrent calls in several threads never share a buffer.
_BUFFERS: dict[int, _Buffer] = {}
_KEYS = itertools.count(1)


def _read(dest, size, key):
    try:
        buffer = _BUFFERS[key]
        data, pos = buffer.data, buffer.pos
        if pos == 0 and size >= len(data):  # the usual first read: all of it, no slice
            chunk = data
        else:
            chunk = data[pos : pos + size]
        if not chunk:
            return _EOF
        ctypes.memmove(dest, chunk, len(chunk))
        buffer.pos = pos + len(chunk)
        return len(chunk)
    except Exception:  # an exception cannot cross OpenJPEG's C frames: report a failed read
        return _EOF


def _write(src, size, key):
    try:
        buffer = _BUFFERS[key]
        data, pos = buffer.data, buffer.pos
        if pos > len(data):  # after a skip past the end: the gap reads as zeros
            data.extend(bytes(pos - len(data)))
        data[pos : pos + size] = ctypes.string_at(src, size)
        buffer.pos = pos + size
        return size
    except Exception:
        return _EOF


def _skip(offset, key):
    try:
        buffer = _BUFFERS[key]
        target = buffer.pos + offset
        if target < 0 or (buffer.readonly and target > len(buffer.data)):
            buffer.pos = len(buffer.data)
            return -1
        buffer.pos = target
        return offset
    except Exception:
        return -1


def _seek(offset, key):
    try:
        buffer = _BUFFERS[key]
        if offset < 0 or (buffer.readonly and offset > len(buffer.data)):
            return 0
        buffer.pos = offset
        return 1
    except Exception:
        return 0


def _error(message, key):
    # Collected for the exception raised after the call; never raised here (see _read).
    try:
        _BUFFERS[key].errors.append(message.decode("utf-8", "replace").strip())
    except Exception:
        pass


class _Handle(ctypes.c_void_p):
    """An opaque OpenJPEG pointer kept as a ctypes object: passing it back costs no conversion
    (a c_void_p restype would make it a Python int, converted again on every call)."""


class Library(NamedTuple):
    path: str
    version: str
    #: why this file: "glymur" (the library glymur loads), "bundled" (in an installed wheel),
    #: or "COMPBENCH_OPENJPEG"
    source: str

    def describe(self) -> str:
        """Where it came from, without the environment's own path (``pillow.libs/...`` for a
        bundled copy), so two checkouts of one setup describe it alike."""
        path = Path(self.path)
        shown = f"{path.parent.name}/{path.name}" if self.source == "bundled" else self.path
        return f"{shown} ({self.source})"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _library_version(path: str) -> str:
    function = ctypes.CDLL(path).opj_version
    function.restype = ctypes.c_char_p
    return function().decode()


def _glymur_library() -> Library | None:
    from glymur.lib import openjp2 as opj

    if opj.OPENJP2 is None:
        return None
    return Library(opj.OPENJP2._name, _library_version(opj.OPENJP2._name), "glymur")


def _bundled_libraries() -> list[Library]:
    """libopenjp2 copies that wheels bundle (auditwheel puts them in ``<package>.libs``)."""
    found = []
    for entry in dict.fromkeys(sys.path):
        for path in sorted(Path(entry or ".").glob("*.libs/libopenjp2*.so*")):
            try:
                found.append(Library(str(path), _library_version(str(path)), "bundled"))
            except (OSError, AttributeError, UnicodeDecodeError):  # not loadable here: not a candidate
                continue
    return found


@lru_cache(maxsize=1)
def chosen_library() -> Library:
    """The libopenjp2 this codec drives (see the module docstring); ValueError, naming the
    problem (the codec's ``available()`` adds the fix), when there is none or
    ``COMPBENCH_OPENJPEG`` names one that cannot be loaded."""
    wanted = os.environ.get("COMPBENCH_OPENJPEG", "").strip()
    if wanted and wanted != "glymur":
        try:
            return Library(wanted, _library_version(wanted), "COMPBENCH_OPENJPEG")
        except (OSError, AttributeError) as exc:
            raise ValueError(f"COMPBENCH_OPENJPEG={wanted} is not a loadable libopenjp2 "
                             f"({exc})") from None
    own = _glymur_library()
    candidates = ([] if own is None else [own]) + ([] if wanted else _bundled_libraries())
    if not candidates:
        raise ValueError("glymur cannot find the OpenJPEG library (libopenjp2)")
    # the newest version; on a tie, glymur's own (the first)
    return max(candidates, key=lambda library: _version_key(library.version))


@lru_cache(maxsize=1)
def openjpeg() -> SimpleNamespace:
    """libopenjp2's functions (the chosen library), with their C signatures declared once.

    The functions are private objects over their own library handle: glymur re-declares its own
    on every call (with a restype that raises through a shared queue), which must not leak into
    ours. PyDLL keeps the GIL across each call: a worker codes one image at a time anyway, and
    releasing and retaking it around ~15 short calls cost about 2 us of a 50 us decode.
    """
    from glymur.lib import openjp2 as opj

    library = chosen_library()
    lib = ctypes.PyDLL(library.path)
    handle, u32, i32 = _Handle, ctypes.c_uint32, ctypes.c_int32
    image_p = ctypes.POINTER(opj.ImageType)
    signatures = {
        "opj_set_default_encoder_parameters": (None, [ctypes.POINTER(opj.CompressionParametersType)]),
        "opj_set_default_decoder_parameters": (None, [ctypes.POINTER(opj.DecompressionParametersType)]),
        "opj_create_compress": (handle, [ctypes.c_int]),
        "opj_create_decompress": (handle, [ctypes.c_int]),
        "opj_destroy_codec": (None, [handle]),
        "opj_set_error_handler": (i32, [handle, _MSG_FN, ctypes.c_void_p]),
        "opj_setup_encoder": (i32, [handle, ctypes.POINTER(opj.CompressionParametersType), image_p]),
        "opj_setup_decoder": (i32, [handle, ctypes.POINTER(opj.DecompressionParametersType)]),
        "opj_image_tile_create": (image_p, [u32, ctypes.POINTER(opj.ImageComptParmType), ctypes.c_int]),
        "opj_image_destroy": (None, [image_p]),
        "opj_start_compress": (i32, [handle, image_p, handle]),
        "opj_write_tile": (i32, [handle, u32, ctypes.c_char_p, u32, handle]),
        "opj_end_compress": (i32, [handle, handle]),
        "opj_read_header": (i32, [handle, handle, ctypes.POINTER(image_p)]),
        "opj_decode": (i32, [handle, handle, image_p]),
        "opj_end_decompress": (i32, [handle, handle]),
        "opj_stream_create": (handle, [ctypes.c_size_t, i32]),
        "opj_stream_destroy": (None, [handle]),
        "opj_stream_set_read_function": (None, [handle, _IO_FN]),
        "opj_stream_set_write_function": (None, [handle, _IO_FN]),
        "opj_stream_set_skip_function": (None, [handle, _SKIP_FN]),
        "opj_stream_set_seek_function": (None, [handle, _SEEK_FN]),
        "opj_stream_set_user_data": (None, [handle, ctypes.c_void_p, ctypes.c_void_p]),
        "opj_stream_set_user_data_length": (None, [handle, ctypes.c_uint64]),
    }
    functions = {}
    for name, (restype, argtypes) in signatures.items():
        function = lib[name]
        function.restype, function.argtypes = restype, argtypes
        functions[name[4:]] = function
    decoder_parameters = opj.DecompressionParametersType()
    functions["set_default_decoder_parameters"](ctypes.byref(decoder_parameters))
    return SimpleNamespace(
        **functions, opj=opj, image_p=image_p, library=library,
        read=_IO_FN(_read), write=_IO_FN(_write), skip=_SKIP_FN(_skip), seek=_SEEK_FN(_seek),
        error=_MSG_FN(_error), decoder_parameters=decoder_parameters,
    )


def default_encoder_parameters():
    """opj_cparameters_t with the chosen library's defaults."""
    lib = openjpeg()
    parameters = lib.opj.CompressionParametersType()
    lib.set_default_encoder_parameters(ctypes.byref(parameters))
    return parameters


def _open_stream(lib, key: int, buffer: _Buffer):
    stream = lib.stream_create(STREAM_CHUNK, int(buffer.readonly))
    if not stream:
        raise MemoryError("OpenJPEG could not create a stream")
    if buffer.readonly:
        lib.stream_set_read_function(stream, lib.read)
        lib.stream_set_user_data_length(stream, len(buffer.data))
    else:
        lib.stream_set_write_function(stream, lib.write)
    lib.stream_set_skip_function(stream, lib.skip)
    lib.stream_set_seek_function(stream, lib.seek)
    lib.stream_set_user_data(stream, key, None)
    return stream


def _failure(what: str, buffer: _Buffer) -> ValueError:
    detail = buffer.errors[0] if buffer.errors else "OpenJPEG reported no reason"
    return ValueError(f"jpeg2000: {what} failed: {detail}")


@contextlib.contextmanager
def _codec_and_stream(lib, buffer: _Buffer, create):
    """An OpenJPEG codec (from ``create``: compress or decompress) whose errors go into
    ``buffer``, and a stream over ``buffer``; both destroyed, and the buffer let go, after."""
    key = next(_KEYS)
    _BUFFERS[key] = buffer
    codec = stream = None
    try:
        codec = create(lib.opj.CODEC_J2K)
        lib.set_error_handler(codec, lib.error, key)
        stream = _open_stream(lib, key, buffer)
        yield codec, stream
    finally:
        if stream:
            lib.stream_destroy(stream)
        if codec:
            lib.destroy_codec(codec)
        del _BUFFERS[key]


def encode_codestream(planes: np.ndarray, parameters, components) -> bytes:
    """One tile holding the whole image: ``planes`` is (C, H, W) uint8, a view will do (its
    bytes are copied in plane order: cheaper to hand over than the array's address)."""
    lib = openjpeg()
    count, height, width = planes.shape
    image = lib.image_tile_create(count, components, lib.opj.CLRSPC_GRAY if count == 1
                                  else lib.opj.CLRSPC_SRGB)
    if not image:
        raise MemoryError("OpenJPEG could not create an image")
    header = image.contents
    header.x0 = header.y0 = 0
    header.x1, header.y1 = width, height
    buffer = _Buffer(bytearray())
    try:
        with _codec_and_stream(lib, buffer, lib.create_compress) as (codec, stream):
            # setup_encoder writes into the parameters (max_cs_size): give it a fresh copy
            fresh = type(parameters).from_buffer_copy(parameters)
            if not lib.setup_encoder(codec, fresh, image):
                raise _failure("encoder setup", buffer)
            if not (lib.start_compress(codec, image, stream)
                    and lib.write_tile(codec, 0, planes.tobytes(), planes.size, stream)
                    and lib.end_compress(codec, stream)):
                raise _failure("encoding", buffer)
            return bytes(buffer.data)
    finally:
        lib.image_destroy(image)


def check_codestream(data: bytes) -> None:
    """Refuse, before OpenJPEG sees them, bytes that are no J2K codestream of an 8-bit gray or
    RGB image of sane size: cheap, and it keeps corrupt headers from costing gigabytes."""
    if len(data) < 47 or data[:4] != SOC_SIZ:
        raise ValueError("jpeg2000: not a J2K codestream (no SOC and SIZ markers at the start)")
    (_, width, height, x0, y0, tile_w, tile_h, tile_x0, tile_y0,
     count) = struct.unpack_from(">HIIIIIIIIH", data, 6)
    if count not in (1, 3) or len(data) < 42 + 3 * count:
        raise ValueError(f"jpeg2000: the codestream declares {count} components; "
                         "this codec writes 1 (gray) or 3 (RGB)")
    if data[42 : 42 + 3 * count] != b"\x07\x01\x01" * count:
        raise ValueError("jpeg2000: the codestream is not 8-bit unsigned without subsampling")
    if not (x0 < width and y0 < height and tile_w and tile_h and tile_x0 <= x0 and tile_y0 <= y0):
        raise ValueError("jpeg2000: the codestream's SIZ marker declares an empty image or tiling")
    tiles = -(-(width - tile_x0) // tile_w) * -(-(height - tile_y0) // tile_h)
    samples = (width - x0) * (height - y0) * count
    if samples > MAX_SAMPLES or tiles > MAX_TILES:
        raise ValueError(f"jpeg2000: the codestream declares {samples} samples in {tiles} tiles, "
                         f"more than this codec decodes ({MAX_SAMPLES} samples, {MAX_TILES} tiles)")


def decode_codestream(data: bytes) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8; a ValueError naming OpenJPEG's reason on bad bytes."""
    check_codestream(data)
    lib = openjpeg()
    buffer = _Buffer(bytes(data))
    image = lib.image_p()
    with _codec_and_stream(lib, buffer, lib.create_decompress) as (codec, stream):
        try:
            lib.setup_decoder(codec, lib.decoder_parameters)
            if not lib.read_header(stream, codec, ctypes.byref(image)):
                raise _failure("reading the header", buffer)
            if not (lib.decode(codec, stream, image) and lib.end_decompress(codec, stream)):
                raise _failure("decoding", buffer)
            return _pixels(image.contents)
        finally:
            if image:
                lib.image_destroy(image)


def _pixels(image) -> np.ndarray:
    """The decoded components as uint8 (OpenJPEG already clipped each sample to its 8-bit
    range: the cast only narrows the type), one copy out of OpenJPEG's int32 buffers."""
    planes = [_plane(image.comps[k]) for k in range(image.numcomps)]
    if len(planes) == 1:
        return planes[0]
    if len({plane.shape for plane in planes}) != 1:
        raise ValueError("jpeg2000: the decoded components differ in size")
    return np.stack(planes, axis=2)


def _plane(component) -> np.ndarray:
    height, width = component.h, component.w
    if component.prec != 8 or component.sgnd or not component.data:
        raise ValueError("jpeg2000: the decoded image is not 8-bit unsigned")
    samples = ctypes.string_at(component.data, 4 * height * width)
    return np.frombuffer(samples, np.int32).astype(np.uint8).reshape(height, width)
