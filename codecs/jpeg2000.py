"""JPEG 2000 (OpenJPEG through glymur; optionally through imagecodecs).

Writes a raw J2K codestream (no JP2 boxes): it is self-describing (SIZ carries the shape) and
the smallest honest container for one image.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache

import numpy as np

from compbench.contracts.codec import Availability, Codec, CodecFactory
from compbench.contracts.errors import CompbenchError
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param

from ._imaging import as_library_image, module_availability, restore_shape

SOT = b"\xff\x90"  # start of the first tile-part: everything before it is the main header


def max_numres(shape: tuple[int, ...]) -> int:
    """OpenJPEG needs the smallest side to hold 2**numres samples (28x28: numres <= 3... 4)."""
    side = min(shape[:2])
    return max(1, int(np.floor(np.log2(side))) - 1)


def _scratch_path() -> str:
    """glymur reads and writes files only: a scratch file per process (forked workers must not
    share one), in RAM where /dev/shm is writable, removed right after each use."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()
    return os.path.join(base, f"compbench-j2k-{os.getpid()}.j2k")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Jpeg2000Codec(Codec):
    def _check_numres(self, image: np.ndarray) -> None:
        limit = max_numres(image.shape)
        if self.settings["numres"] > limit:
            raise ValueError(
                f"jpeg2000: numres={self.settings['numres']} is too many resolutions for a "
                f"{image.shape[0]}x{image.shape[1]} image; use numres<={limit}"
            )

    def encode(self, image: np.ndarray) -> bytes:
        image = as_library_image(image)
        self._check_numres(image)
        if self.settings["backend"] == "imagecodecs":
            return self._encode_imagecodecs(image)
        import glymur

        path = _scratch_path()
        rate = {"cratios": [self.settings["ratio"]]} if self.settings["ratio"] else {
            "psnr": [self.settings["psnr"]]}
        try:
            glymur.Jp2k(path, data=image, numres=self.settings["numres"], irreversible=True, **rate)
            with open(path, "rb") as stream:
                return stream.read()
        finally:
            _remove(path)

    def _encode_imagecodecs(self, image: np.ndarray) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.jpeg2k_encode(
            image, level=self.settings["psnr"], codecformat="J2K", reversible=False,
            resolutions=self.settings["numres"], numthreads=1,
        ))

    def decode(self, data: bytes) -> np.ndarray:
        if self.settings["backend"] == "imagecodecs":
            import imagecodecs

            return restore_shape(imagecodecs.jpeg2k_decode(data, numthreads=1), 2)
        import glymur

        path = _scratch_path()
        try:
            with open(path, "wb") as stream:
                stream.write(data)
            return glymur.Jp2k(path)[:]
        finally:
            _remove(path)

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


def _no_thread_pool() -> None:
    """glymur's default (lib.num_threads=1) makes OpenJPEG build a one-thread pool for every
    image: ~1 ms of a ~2.5 ms round trip on 28x28 images. 0 runs in the calling thread."""
    import glymur

    try:
        glymur.set_option("lib.num_threads", 0)
    except RuntimeError:  # an OpenJPEG without thread support never builds the pool anyway
        pass


class Jpeg2000Factory(CodecFactory):
    name = "jpeg2000"
    description = "JPEG 2000, irreversible 9/7 wavelet (OpenJPEG via glymur); rate by PSNR target or ratio"
    params = (
        Param("psnr", float, 30.0, "target PSNR in dB (ignored when ratio is set)", low=1, high=100),
        Param("ratio", float, None, "target compression ratio (e.g. 20 for 20:1); overrides psnr",
              low=1, high=10000),
        Param("numres", int, 3, "wavelet resolutions; 28x28 images allow at most 3", low=1, high=10),
        Param("backend", str, "glymur", "glymur (tested default) or imagecodecs (faster, PSNR only)",
              choices=("glymur", "imagecodecs")),
    )
    rate_params = ("psnr", "ratio")
    exclusive = (("psnr", "ratio"),)
    ladder = tuple({"psnr": p} for p in (18, 20, 22, 25, 28, 32, 36, 42))

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

    def create(self, **settings) -> Codec:
        if settings["backend"] == "glymur":
            _no_thread_pool()
        if settings.get("ratio"):
            settings = {**settings, "psnr": None}
        return Jpeg2000Codec(**settings)

    def library_versions(self) -> dict[str, str]:
        import glymur
        import imagecodecs

        return {"glymur": glymur.__version__, "openjpeg": glymur.version.openjpeg_version,
                "imagecodecs_openjpeg": str(imagecodecs.jpeg2k_version())}


@hookimpl
def register_codecs(register):
    register(Jpeg2000Factory())
