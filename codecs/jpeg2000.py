"""JPEG 2000 (OpenJPEG through glymur; optionally through imagecodecs).

Writes a raw J2K codestream (no JP2 boxes): it is self-describing (SIZ carries the shape) and
the smallest honest container for one image.

glymur's own API writes and reads files only. This codec drives the same libopenjp2 that glymur
loads, with glymur's ctypes structures, but on memory streams (OpenJPEG's user-defined stream
callbacks), so a timing measures OpenJPEG rather than a file round trip per image. The encoder
parameters are the ones ``glymur.Jp2k(path, data=..., psnr=[...], irreversible=True)`` sets:
the codestream bytes are identical to glymur's file path (tests/test_jpeg2000.py checks it).

Why backend=glymur and backend=imagecodecs give different bytes and PSNR at the same psnr
target: the rate control (OpenJPEG's fixed-quality allocation) is the same, the parameters are
not. imagecodecs' ``jpeg2k_encode`` caps the resolutions at int(log2(min side)) - 2 (2 on 28x28:
one wavelet level fewer than numres=3: the bytes and PSNR differ by that level), uses RPCL
progression and declares 256x256 precincts (header bytes only). ``layout=imagecodecs`` makes
the glymur backend write exactly that; the codestreams then differ only in the OpenJPEG version
the COM marker names (2.5.0 from the system, 2.5.4 bundled in imagecodecs) and, on 2 MNIST
digits in 10,000, where the two versions' rate allocations stop. docs/timings.md has the details.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import struct
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from compbench.contracts.codec import Availability, Codec, CodecFactory
from compbench.contracts.errors import CompbenchError
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param

from ._imaging import as_library_image, module_availability, restore_shape

SOC_SIZ = b"\xff\x4f\xff\x51"
SOT = b"\xff\x90"  # start of the first tile-part: everything before it is the main header
#: the largest image (H * W * channels) coded, and the most tiles a codestream may declare:
#: a corrupt SIZ marker would otherwise make OpenJPEG allocate and decode gigabytes (28 x 2**21
#: samples from one flipped bit in an MNIST codestream took a second) before failing
MAX_SAMPLES = 1 << 24
MAX_TILES = 4096
STREAM_CHUNK = 1 << 16  # OpenJPEG's stream buffer; its 1 MiB default costs an mmap per image


def max_numres(shape: tuple[int, ...]) -> int:
    """OpenJPEG needs the smallest side to hold 2**numres samples (28x28: numres <= 3... 4)."""
    side = min(shape[:2])
    return max(1, int(np.floor(np.log2(side))) - 1)


def imagecodecs_numres(numres: int, shape: tuple[int, ...]) -> int:
    """The resolutions imagecodecs' jpeg2k_encode really codes: it caps them at
    int(log2(min side)) - 2, computed as it does (C doubles), so 28x28 gets 2."""
    return min(max(int(math.log(min(shape[:2])) / math.log(2) - 2), 1), numres)


# ---------------------------------------------------------------------------------------------
# OpenJPEG on memory streams, through glymur's library handle and structures
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


@lru_cache(maxsize=1)
def _openjpeg() -> SimpleNamespace:
    """libopenjp2's functions as glymur loaded it, with their C signatures declared once.

    The functions are private objects over glymur's library handle: glymur re-declares its own
    on every call (with a restype that raises through a shared queue), which must not leak into
    ours. PyDLL keeps the GIL across each call: a worker codes one image at a time anyway, and
    releasing and retaking it around ~15 short calls cost about 2 us of a 50 us decode.
    """
    from glymur.lib import openjp2 as opj

    lib = ctypes.PyDLL(opj.OPENJP2._name, handle=opj.OPENJP2._handle)
    handle, u32, i32 = _Handle, ctypes.c_uint32, ctypes.c_int32
    image_p = ctypes.POINTER(opj.ImageType)
    signatures = {
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
    return SimpleNamespace(
        **functions, opj=opj, image_p=image_p,
        read=_IO_FN(_read), write=_IO_FN(_write), skip=_SKIP_FN(_skip), seek=_SEEK_FN(_seek),
        error=_MSG_FN(_error), decoder_parameters=opj.set_default_decoder_parameters(),
    )


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


def encode_codestream(planes: np.ndarray, parameters, components) -> bytes:
    """One tile holding the whole image: ``planes`` is (C, H, W) uint8, a view will do (its
    bytes are copied in plane order: cheaper to hand over than the array's address)."""
    lib = _openjpeg()
    count, height, width = planes.shape
    image = lib.image_tile_create(count, components, lib.opj.CLRSPC_GRAY if count == 1
                                  else lib.opj.CLRSPC_SRGB)
    if not image:
        raise MemoryError("OpenJPEG could not create an image")
    header = image.contents
    header.x0 = header.y0 = 0
    header.x1, header.y1 = width, height
    key, buffer = next(_KEYS), _Buffer(bytearray())
    _BUFFERS[key] = buffer
    codec = stream = None
    try:
        codec = lib.create_compress(lib.opj.CODEC_J2K)
        lib.set_error_handler(codec, lib.error, key)
        # setup_encoder writes into the parameters (max_cs_size): give it a fresh copy
        fresh = type(parameters).from_buffer_copy(parameters)
        if not lib.setup_encoder(codec, fresh, image):
            raise _failure("encoder setup", buffer)
        stream = _open_stream(lib, key, buffer)
        if not (lib.start_compress(codec, image, stream)
                and lib.write_tile(codec, 0, planes.tobytes(), planes.size, stream)
                and lib.end_compress(codec, stream)):
            raise _failure("encoding", buffer)
        return bytes(buffer.data)
    finally:
        if stream:
            lib.stream_destroy(stream)
        if codec:
            lib.destroy_codec(codec)
        lib.image_destroy(image)
        del _BUFFERS[key]


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
    lib = _openjpeg()
    key, buffer = next(_KEYS), _Buffer(bytes(data))
    _BUFFERS[key] = buffer
    codec = stream = None
    image = lib.image_p()
    try:
        codec = lib.create_decompress(lib.opj.CODEC_J2K)
        lib.set_error_handler(codec, lib.error, key)
        lib.setup_decoder(codec, lib.decoder_parameters)
        stream = _open_stream(lib, key, buffer)
        if not lib.read_header(stream, codec, ctypes.byref(image)):
            raise _failure("reading the header", buffer)
        if not (lib.decode(codec, stream, image) and lib.end_decompress(codec, stream)):
            raise _failure("decoding", buffer)
        return _pixels(image.contents)
    finally:
        if image:
            lib.image_destroy(image)
        if stream:
            lib.stream_destroy(stream)
        if codec:
            lib.destroy_codec(codec)
        del _BUFFERS[key]


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


# ---------------------------------------------------------------------------------------------
# The codec
# ---------------------------------------------------------------------------------------------


def encoder_parameters(settings: dict, shape: tuple[int, ...]):
    """opj_cparameters_t as glymur's file writer fills it for these settings (or, for
    layout=imagecodecs, as imagecodecs' jpeg2k_encode does), and the component descriptions."""
    from glymur.lib import openjp2 as opj

    count = 1 if len(shape) == 2 else shape[2]
    parameters = opj.set_default_encoder_parameters()
    parameters.irreversible = 1
    # numres is an upper bound: an image too small for that many gets as many as fit
    parameters.numresolution = min(settings["numres"], max_numres(shape))
    parameters.tcp_numlayers = 1
    if settings["ratio"]:
        parameters.tcp_rates[0] = settings["ratio"]
        parameters.cp_disto_alloc = 1
    else:
        parameters.tcp_distoratio[0] = settings["psnr"]
        parameters.cp_fixed_quality = 1
    parameters.tcp_mct = 1 if count == 3 else 0  # RGB -> YCbCr before the wavelet, as glymur
    if settings["layout"] == "imagecodecs":
        parameters.numresolution = imagecodecs_numres(settings["numres"], shape)
        parameters.prog_order = 2  # OPJ_RPCL
        parameters.res_spec = parameters.numresolution
        for level in range(parameters.res_spec):
            parameters.prcw_init[level] = parameters.prch_init[level] = 256
        parameters.csty = 1  # precincts declared in COD
    components = (opj.ImageComptParmType * count)()
    for component in components:
        component.dx = component.dy = 1
        component.w, component.h = shape[1], shape[0]
        component.prec = component.bpp = 8
    return parameters, components


class Jpeg2000Codec(Codec):
    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        #: by image shape: the checks passed and, for backend=glymur, the encoder parameters
        self._prepared: dict[tuple, tuple | None] = {}

    def _prepare(self, shape: tuple[int, ...]) -> tuple | None:
        if len(shape) == 3 and shape[2] != 3:
            raise ValueError(f"jpeg2000: expected a gray or RGB image, got shape {shape}")
        if int(np.prod(shape)) > MAX_SAMPLES:
            raise ValueError(f"jpeg2000: a {'x'.join(map(str, shape))} image is more than the "
                             f"{MAX_SAMPLES} samples this codec codes; use a smaller image")
        if self.settings["backend"] == "imagecodecs":
            return None
        return encoder_parameters(self.settings, shape)

    def encode(self, image: np.ndarray) -> bytes:
        image = restore_shape(as_library_image(image), 2)
        if image.shape not in self._prepared:
            self._prepared[image.shape] = self._prepare(image.shape)
        if self.settings["backend"] == "imagecodecs":
            return self._encode_imagecodecs(image)
        planes = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
        return encode_codestream(planes, *self._prepared[image.shape])

    def _encode_imagecodecs(self, image: np.ndarray) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.jpeg2k_encode(
            image, level=self.settings["psnr"], codecformat="J2K", reversible=False,
            resolutions=min(self.settings["numres"], max_numres(image.shape)), numthreads=1,
        ))

    def decode(self, data: bytes) -> np.ndarray:
        if self.settings["backend"] == "imagecodecs":
            import imagecodecs

            check_codestream(data)
            try:
                return restore_shape(imagecodecs.jpeg2k_decode(data, numthreads=1), 2)
            except imagecodecs.Jpeg2kError as exc:  # the same exception as the glymur backend
                raise ValueError(f"jpeg2000: decoding failed: {exc}") from None
        return decode_codestream(data)

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return _main_header_bytes(tuple(shape), tuple(sorted(self.settings.items())))


@lru_cache(maxsize=64)
def _main_header_bytes(shape: tuple[int, ...], settings: tuple) -> int:
    """The codestream's main header (SOC to the first SOT) plus the 2-byte EOC."""
    codec = Jpeg2000Codec(**dict(settings))
    try:
        stream = codec.encode(np.zeros(shape, np.uint8))
    except ValueError:
        return 0
    return stream.find(SOT) + 2


class Jpeg2000Factory(CodecFactory):
    name = "jpeg2000"
    description = "JPEG 2000, irreversible 9/7 wavelet (OpenJPEG via glymur), gray or RGB; rate by PSNR target or ratio"
    params = (
        Param("psnr", float, 30.0, "target PSNR in dB (ignored when ratio is set)", low=1, high=100),
        Param("ratio", float, None, "target compression ratio (e.g. 20 for 20:1); overrides psnr",
              low=1, high=10000),
        Param("numres", int, 3, "the most wavelet resolutions; an image too small for them gets as "
              "many as fit (28x28: 3)", low=1, high=10),
        Param("backend", str, "glymur", "glymur (tested default) or imagecodecs (PSNR only; "
              "always writes the imagecodecs layout)", choices=("glymur", "imagecodecs")),
        Param("layout", str, None, "codestream layout: openjpeg (glymur's default: LRCP, one "
              "precinct) or imagecodecs (RPCL, 256x256 precincts, numres capped at "
              "log2(min side)-2, as imagecodecs writes); default: the backend's own",
              choices=("openjpeg", "imagecodecs")),
    )
    rate_params = ("psnr", "ratio")
    exclusive = (("psnr", "ratio"),)
    # Measured on 1,000 MNIST test digits (docs/timings.md has the table): below psnr=15 most
    # codestreams are the one-pass floor every target gets (1.45 bpp, 9.6 dB, 1.2 bpp of it
    # the main header); 15 is the lowest target where 80% code more (1.56 bpp, 0.35 bpp
    # payload, 14.7 dB). psnr=70 keeps nearly every coding pass (6.13 bpp, 60.1 dB; psnr=100
    # adds 0.001 bpp): near-lossless, as far as the irreversible 9/7 wavelet goes.
    ladder = tuple({"psnr": p} for p in (15, 17, 19, 21, 23, 26, 30, 35, 40, 46, 54, 70))
    channels = (1, 3)

    def available(self) -> Availability:
        missing = module_availability("glymur")
        if not missing.ok:
            return missing
        import glymur

        if glymur.version.openjpeg_version in ("0.0.0", None, ""):
            return Availability(False, "glymur cannot find the OpenJPEG library (libopenjp2)",
                                "apt-get install -y libopenjp2-7")
        return module_availability("imagecodecs")

    def validate(self, settings: dict) -> None:
        if settings["backend"] == "imagecodecs" and settings["ratio"]:
            raise CompbenchError("jpeg2000: backend=imagecodecs supports psnr only; drop ratio= "
                                 "or use backend=glymur")
        if settings["backend"] == "imagecodecs" and settings["layout"] == "openjpeg":
            raise CompbenchError("jpeg2000: backend=imagecodecs writes only its own layout; "
                                 "drop layout= or use backend=glymur")

    def not_applicable(self, shape: tuple[int, ...]) -> str | None:
        if int(np.prod(shape)) > MAX_SAMPLES:
            return (f"jpeg2000 codes images of at most {MAX_SAMPLES} samples (H x W x channels), "
                    f"not {'x'.join(map(str, shape))}")
        return super().not_applicable(shape)

    def create(self, **settings) -> Codec:
        # Load the library here: create() is not timed, and the first encode would otherwise
        # carry the import (a quarter of a second for imagecodecs) in its unit's timings.
        if settings["backend"] == "glymur":
            _openjpeg()
        else:
            import imagecodecs  # noqa: F401
        if settings.get("layout") is None:
            settings = {**settings, "layout": "imagecodecs" if settings["backend"] == "imagecodecs"
                        else "openjpeg"}
        return Jpeg2000Codec(**settings)

    def library_versions(self) -> dict[str, str]:
        import glymur
        import imagecodecs

        return {"glymur": glymur.__version__, "openjpeg": glymur.version.openjpeg_version,
                "imagecodecs_openjpeg": str(imagecodecs.jpeg2k_version())}


@hookimpl
def register_codecs(register):
    register(Jpeg2000Factory())
