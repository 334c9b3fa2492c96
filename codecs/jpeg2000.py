"""JPEG 2000 (OpenJPEG through glymur; optionally through imagecodecs).

Writes a raw J2K codestream (no JP2 boxes): it is self-describing (SIZ carries the shape) and
the smallest honest container for one image.

glymur's own API writes and reads files only. This codec drives libopenjp2 with glymur's
ctypes structures on memory streams (``_openjpeg``: which library, and why), so a timing
measures OpenJPEG rather than a file round trip per image. The encoder parameters are the ones
``glymur.Jp2k(path, data=..., psnr=[...], irreversible=True)`` sets: the codestream bytes are
identical to glymur's file path on the same library (tests/test_jpeg2000.py checks it).

Why backend=glymur and backend=imagecodecs give different bytes and PSNR at the same psnr
target: the rate control (OpenJPEG's fixed-quality allocation) is the same, the parameters are
not. imagecodecs' ``jpeg2k_encode`` caps the resolutions at int(log2(min side)) - 2 (2 on 28x28:
one wavelet level fewer than numres=3: the bytes and PSNR differ by that level), uses RPCL
progression and declares 256x256 precincts (header bytes only). ``layout=imagecodecs`` makes
the glymur backend write exactly that: on the same OpenJPEG version the codestreams are then
identical. docs/timings.md has the details.

Resolutions. ``numres`` is an upper bound, 6 (OpenJPEG's own default) unless given: each image
gets as many as fit with its coarsest level keeping at least 4 px on the shorter side
(``max_numres``: 3 on 28x28 MNIST digits, as before; 5 on 102x102; 6 from 128 px up). OpenJPEG
takes two more (down to 1 px), but they cost bits: on 1,000 MNIST test digits at psnr=30, 4
resolutions give 3.158 bpp at 31.33 dB against 3's 2.920 bpp at 31.31 dB. On scikit-image's 19
photographs at psnr=30 the old fixed 3 gave 0.400 bpp at 29.23 dB mean (27.6 dB pooled); up
to 6 gives 0.351 bpp at 29.81 dB (29.81 pooled); up to 7 or 8, 0.352 bpp at 29.78 dB.

Why the psnr target is missed, mostly by a little: OpenJPEG's fixed-quality rate allocation
(``opj_tcd_rateallocate``, the same in 2.5.0 and 2.5.4) targets the PSNR over all samples of
a tile (here the whole image, every channel: compbench's ``psnr``, not ``psnr_y``; for RGB its
distortion estimate carries the colour transform's norms). It bisects a rate-distortion slope
threshold and, on finishing, keeps the last threshold whose estimated distortion was still
*above* the target (``stable_thresh`` is set on that branch; uclouvain/openjpeg issue 1033):
the coding passes at the critical slope are left out, so an image ends just short of its
target. Most images miss by 0.05-0.6 dB (at the defaults, 15 of the 19 photographs are below
30 dB, mean 29.81; raising each image's target until it reaches 30 dB would cost 3.4% more
bits, 0.351 -> 0.363 bpp). The miss is large where one pass carries much of the distortion: a
smooth image whose lowest band is one nearly flat code-block. scikit-image's microaneurysms
(102x102) at numres 2 or 3 codes next to nothing, 18.5 dB for any target from 15 to 30 dB,
which alone pulled the old default's pooled PSNR (that of the mean MSE) down to 27.6 dB; a flat
64x64 image of value 200 at numres=3 gets 22.1 dB at psnr=25 or 30 although the next pass
gives 34.2 dB. The codec keeps OpenJPEG's allocation as it is: the target means what it means
for every other OpenJPEG user, and MNIST results stay byte-identical.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from compbench import Availability, Codec, CodecFactory, CompbenchError, Param, hookimpl

from ._imaging import SizeLimits, as_library_image, module_availability, restore_shape, size_limit
from ._openjpeg import (
    MAX_SAMPLES,
    check_codestream,
    chosen_library,
    decode_codestream,
    default_encoder_parameters,
    encode_codestream,
    openjpeg,
)

SOT = b"\xff\x90"  # start of the first tile-part: everything before it is the main header


def max_numres(shape: tuple[int, ...]) -> int:
    """The most resolutions an image gets: its coarsest level keeps at least 4 px on the shorter
    side (28x28: 3, 102x102: 5, 128x128: 6). OpenJPEG itself refuses only levels under 1 px."""
    side = min(shape[:2])
    return max(1, int(np.floor(np.log2(side))) - 1)


def imagecodecs_numres(numres: int, shape: tuple[int, ...]) -> int:
    """The resolutions imagecodecs' jpeg2k_encode really codes: it caps them at
    int(log2(min side)) - 2, computed as it does (C doubles), so 28x28 gets 2."""
    return min(max(int(math.log(min(shape[:2])) / math.log(2) - 2), 1), numres)


def encoder_parameters(settings: dict, shape: tuple[int, ...]):
    """opj_cparameters_t as glymur's file writer fills it for these settings (or, for
    layout=imagecodecs, as imagecodecs' jpeg2k_encode does), and the component descriptions."""
    count = 1 if len(shape) == 2 else shape[2]
    parameters = default_encoder_parameters()
    parameters.irreversible = 1
    # numres is an upper bound: an image too small for that many gets as many as fit (max_numres)
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
    components = (openjpeg().opj.ImageComptParmType * count)()
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
        too_large = size_limit("jpeg2000", shape, max_samples=MAX_SAMPLES)
        if too_large:
            raise ValueError(too_large)
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
        shape = tuple(shape)
        if size_limit("jpeg2000", shape, max_samples=MAX_SAMPLES):
            return 0  # not coded
        return _main_header_bytes(header_shape(self.settings, shape), tuple(sorted(self.settings.items())))


def header_shape(settings: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The smallest image whose main header is as long as an image of ``shape``'s: the same
    components and the same resolutions (the size fields of SIZ are fixed; QCD grows with the
    resolutions). A folder of photographs has as many shapes as photographs, and each would
    otherwise cost a full-size blank image's coding per setting."""
    if settings["backend"] == "imagecodecs" or settings["layout"] == "imagecodecs":
        side = 2 ** (imagecodecs_numres(settings["numres"], shape) + 2)
    else:
        side = 2 ** (min(settings["numres"], max_numres(shape)) + 1)
    return (side, side, *shape[2:])


@lru_cache(maxsize=64)
def _main_header_bytes(shape: tuple[int, ...], settings: tuple) -> int:
    """The codestream's main header (SOC to the first SOT) plus the 2-byte EOC."""
    codec = Jpeg2000Codec(**dict(settings))
    try:
        stream = codec.encode(np.zeros(shape, np.uint8))
    except ValueError:
        return 0
    return stream.find(SOT) + 2


class Jpeg2000Factory(SizeLimits, CodecFactory):
    name = "jpeg2000"
    description = "JPEG 2000, irreversible 9/7 wavelet (OpenJPEG via glymur), gray or RGB; rate by PSNR target or ratio"
    params = (
        Param("psnr", float, 30.0, "target PSNR in dB (ignored when ratio is set)", low=1, high=100),
        Param("ratio", float, None, "target compression ratio (e.g. 20 for 20:1); overrides psnr",
              low=1, high=10000),
        Param("numres", int, 6, "the most wavelet resolutions (6: OpenJPEG's default); each image "
              "gets as many as fit with its coarsest level at least 4 px on the shorter side (28x28: 3)", low=1, high=10),
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
    # this codec's own cap (_openjpeg.MAX_SAMPLES), not OpenJPEG's: 1x16777216 codes in 13-23 s and 1.5 GB
    max_samples = MAX_SAMPLES

    def available(self) -> Availability:
        missing = module_availability("glymur")
        if not missing.ok:
            return missing
        try:
            chosen_library()
        except ValueError as exc:
            return Availability(False, str(exc), "apt-get install -y libopenjp2-7, or set "
                                "COMPBENCH_OPENJPEG to a libopenjp2 file")
        return module_availability("imagecodecs")

    def validate(self, settings: dict) -> None:
        if settings["backend"] == "imagecodecs" and settings["ratio"]:
            raise CompbenchError("jpeg2000: backend=imagecodecs supports psnr only; drop ratio= "
                                 "or use backend=glymur")
        if settings["backend"] == "imagecodecs" and settings["layout"] == "openjpeg":
            raise CompbenchError("jpeg2000: backend=imagecodecs writes only its own layout; "
                                 "drop layout= or use backend=glymur")

    def create(self, **settings) -> Codec:
        # Load the library here: create() is not timed, and the first encode would otherwise
        # carry the import (a quarter of a second for imagecodecs) in its unit's timings.
        if settings["backend"] == "glymur":
            openjpeg()
        else:
            import imagecodecs  # noqa: F401
        if settings.get("layout") is None:
            settings = {**settings, "layout": "imagecodecs" if settings["backend"] == "imagecodecs"
                        else "openjpeg"}
        return Jpeg2000Codec(**settings)

    def library_versions(self) -> dict[str, str]:
        import glymur
        import imagecodecs

        library = chosen_library()
        return {"glymur": glymur.__version__, "openjpeg": library.version,
                "openjpeg_file": library.describe(),
                "imagecodecs_openjpeg": str(imagecodecs.jpeg2k_version())}


@hookimpl
def register_codecs(register):
    register(Jpeg2000Factory())
