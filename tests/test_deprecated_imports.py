"""0.1's import paths work through 0.2.x: every public name of 0.1's ``compbench.codec``,
``dataset``, ``errors``, ``hookspecs``, ``metrics``, ``params``, ``plugins`` and ``training``
(``git show 9e3c1ec^:compbench/<module>.py``) resolves to the object that replaced it, with a
DeprecationWarning naming the import to use instead.

The shims warn when a name is looked up, not when the module is imported, so every lookup warns
and the tests need no fresh interpreter; the subprocess tests check what only a fresh one shows
(the warning's location under Python's default filters, a clean import of the built-ins).
"""

import re
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
from conftest import assert_every_check_passed

import compbench
from compbench import ImageSet, check_codec
from compbench.contracts import hookspecs, registry
from compbench.metrics import measure

PREFIX = "is deprecated since 0.2.0 and will be removed in 0.3.0; "

#: 0.1 names that compbench exports now: module -> names
TO_ROOT = {
    "compbench.codec": ("AVAILABLE", "Availability", "Codec", "CodecFactory"),
    "compbench.dataset": ("DatasetAdapter", "ImageSet"),
    "compbench.errors": ("CompbenchError", "PluginError"),
    "compbench.hookspecs": ("hookimpl",),
    "compbench.params": ("Param", "resolve_settings"),
    "compbench.training": ("Trainer",),
}
#: 0.1 names without a public replacement: module -> (where they live now, names, advice)
INTERNAL = {
    "compbench.hookspecs": (hookspecs, ("hookspec", "register_codecs", "register_datasets",
                                        "register_trainers"), "a plugin needs only hookimpl"),
    "compbench.plugins": (registry, ("DISABLE_ENV", "ENTRY_POINT_GROUP", "Provenance", "Registered",
                                     "Registry", "build_registry", "make_plugin_manager"),
                          "plugin loading is internal"),
}
#: 0.1's compbench.metrics was a module; the package lends its names (its __all__)
METRICS_NAMES = {"METRICS": measure.FUSED_METRICS, "entropy_bits": measure.entropy_bits,
                 "image_metrics": measure.image_metrics, "psnr_from_mse": measure.psnr_from_mse,
                 "ssim_fits": measure.ssim_fits}

CASES = [
    *[(module, name, getattr(compbench, name), f"{module} {PREFIX}import {name} from compbench")
      for module, names in TO_ROOT.items() for name in names],
    *[(module, name, getattr(home, name), f"{module} {PREFIX}{advice}")
      for module, (home, names, advice) in INTERNAL.items() for name in names],
    *[("compbench.metrics", name, value, f"compbench.metrics.{name} {PREFIX}the harness measures")
      for name, value in METRICS_NAMES.items()],
]


def old_import(module: str, name: str):
    """``from module import name`` as a 0.1 plugin writes it."""
    namespace = {}
    exec(f"from {module} import {name}", namespace)
    return namespace[name]


@pytest.mark.parametrize(("module", "name", "now", "message"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_an_01_name_is_todays_object_with_a_warning(module, name, now, message):
    with pytest.warns(DeprecationWarning, match=re.escape(message)):
        assert old_import(module, name) is now


def test_an_01_name_warns_at_every_lookup_not_once():
    import compbench.errors as errors

    for _ in range(2):
        with pytest.warns(DeprecationWarning, match="compbench.errors is deprecated"):
            assert errors.CompbenchError is compbench.CompbenchError


@pytest.mark.parametrize("module", sorted({*TO_ROOT, *INTERNAL}))
def test_a_name_0_1_did_not_have_is_an_ordinary_import_error(module):
    with pytest.raises(ImportError, match=f"cannot import name 'Nonexistent' from '{module}'"):
        old_import(module, "Nonexistent")


def test_a_star_import_lends_every_name():
    namespace = {}
    with pytest.warns(DeprecationWarning):
        exec("from compbench.errors import *", namespace)
    assert namespace["CompbenchError"] is compbench.CompbenchError
    assert namespace["PluginError"] is compbench.PluginError


def test_select_keeps_its_01_behaviour():
    data = ImageSet(np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2), np.array([0, 1, 0, 1, 0, 1]),
                    np.arange(10, 16))
    with pytest.warns(DeprecationWarning, match=re.escape("ImageSet.take(positions)")):
        select = old_import("compbench.dataset", "select")
    chosen = select(data, limit=3, per_class=2)  # the first two of each class, then the first three
    assert isinstance(chosen, ImageSet)
    np.testing.assert_array_equal(chosen.indices, [10, 11, 12])
    np.testing.assert_array_equal(chosen.images, data.images[:3])
    np.testing.assert_array_equal(select(data).labels, data.labels)


def test_the_01_metric_functions_measure_as_before():
    with pytest.warns(DeprecationWarning):
        image_metrics = old_import("compbench.metrics", "image_metrics")
        names = old_import("compbench.metrics", "METRICS")
        psnr_from_mse = old_import("compbench.metrics", "psnr_from_mse")
        ssim_fits = old_import("compbench.metrics", "ssim_fits")
        entropy_bits = old_import("compbench.metrics", "entropy_bits")
    originals = np.zeros((2, 8, 8), np.uint8)
    reconstructions = originals.copy()
    reconstructions[1] = 1  # MSE 1: PSNR 10 log10(255^2)
    values = image_metrics(originals, reconstructions, [10, 20], 2)
    # every 0.1 column is still there, first among today's
    assert list(values) == list(names)
    assert {"bytes", "bpp", "bpp_payload", "mse", "psnr", "snr_db", "ssim", "entropy", "snr_paper"} <= set(names)
    np.testing.assert_allclose(values["bpp"], [80 / 64, 160 / 64])
    np.testing.assert_allclose(values["psnr"], [np.inf, 20 * np.log10(255)])
    assert psnr_from_mse(0.0) == np.inf
    assert ssim_fits((7, 7)) and not ssim_fits((6, 40, 3))
    assert entropy_bits(np.array([[0, 255]], np.uint8)) == 1.0


# A plugin as written for 0.1 (tests/thirdparty/compbench_zlibraw/compbench_zlibraw.py then).
PLUGIN_01 = '''
import struct
import zlib

import numpy as np

from compbench.codec import Codec, CodecFactory
from compbench.hookspecs import hookimpl
from compbench.params import Param

HEADER = struct.Struct("<BHHB")  # ndim, height, width, channels


class ZlibRaw(Codec):
    def encode(self, image):
        channels = image.shape[2] if image.ndim == 3 else 0
        header = HEADER.pack(image.ndim, image.shape[0], image.shape[1], channels)
        return header + zlib.compress(image.tobytes(), self.settings["level"])

    def decode(self, data):
        ndim, height, width, channels = HEADER.unpack_from(data)
        shape = (height, width, channels)[:ndim]
        return np.frombuffer(zlib.decompress(data[HEADER.size:]), np.uint8).reshape(shape).copy()

    def overhead_bytes(self, shape):
        return HEADER.size


class ZlibRawFactory(CodecFactory):
    name = "zlibraw"
    description = "zlib over raw pixels (lossless)"
    params = (Param("level", int, 6, "zlib level", low=0, high=9),)
    rate_params = ("level",)

    def create(self, **settings):
        return ZlibRaw(**settings)


@hookimpl
def register_codecs(register):
    register(ZlibRawFactory())
'''


@pytest.fixture
def plugin_01():
    """PLUGIN_01 as an importable module (the kit pickles its factory, as workers would)."""
    module = types.ModuleType("compbench_zlibraw_01")
    sys.modules[module.__name__] = module
    try:
        with pytest.warns(DeprecationWarning) as caught:
            exec(compile(PLUGIN_01, "compbench_zlibraw_01.py", "exec"), module.__dict__)
        yield module, caught
    finally:
        del sys.modules[module.__name__]


def test_a_01_plugin_still_registers_and_passes_the_kit(plugin_01):
    module, caught = plugin_01
    assert sorted({str(w.message).split(";")[0] for w in caught}) == [
        f"compbench.{name} is deprecated since 0.2.0 and will be removed in 0.3.0"
        for name in ("codec", "hookspecs", "params")]
    assert all(w.filename == "compbench_zlibraw_01.py" for w in caught)  # the plugin's own lines
    found = registry.build_registry(extra_plugins=[("old", module)], load_entry_points=False)
    assert set(found.codecs) == {"zlibraw"}
    assert_every_check_passed(check_codec(found.codec("zlibraw")))


def run_python(code: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_default_filters_show_the_warning_at_the_plugins_line(tmp_path):
    """Python shows a DeprecationWarning by default only when it is attributed to __main__: the
    shims attribute it to the line that imports the old name."""
    script = tmp_path / "old_plugin.py"
    script.write_text("import compbench\n\nfrom compbench.errors import CompbenchError\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (f"{script}:3: DeprecationWarning: compbench.errors is deprecated since 0.2.0 and will be "
            "removed in 0.3.0; import CompbenchError from compbench") in done.stderr


def test_compbench_and_its_built_in_plugins_use_no_deprecated_path():
    done = run_python("""
        import warnings
        warnings.filterwarnings("error", message=".* is deprecated since 0.2.0", category=DeprecationWarning)
        from importlib import metadata

        import compbench
        for entry_point in metadata.entry_points(group="compbench"):
            if entry_point.dist.name == "compbench":
                entry_point.load()
        print("loaded")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "loaded", done.stderr
