"""Plots and image grids: files written and decodable, colors consistent, grids crisp."""

import copy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from compbench import api
from compbench.contracts.errors import CompbenchError

METRICS = ["bpp", "bpp_payload", "psnr", "ssim", "entropy", "snr_db", "snr_paper"]


def synthetic_summary(points: dict[str, list[tuple[float, float]]], classes=("0", "1", "2")) -> pd.DataFrame:
    """codec -> [(bpp, psnr), ...]: one setting per point, the same values for every class."""
    rows = []
    for codec, settings in points.items():
        for k, (bpp, psnr) in enumerate(settings):
            for class_name in [*classes, "all"]:
                row = {"codec": codec, "setting": f"{codec}:q={k}", "dataset": "toy", "split": "test",
                       "class": class_name, "count": 5, "errors": 0}
                for metric in METRICS:
                    row[f"{metric}_mean"], row[f"{metric}_std"] = 1.0 + k, 0.1
                row.update(bpp_mean=bpp, bpp_payload_mean=bpp / 2, psnr_mean=psnr, snr_db_mean=psnr - 10)
                rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def plots():
    """compbench.present.charts: matplotlib is imported by the first test that draws, not at
    collection."""
    from compbench.present import charts

    return charts


@pytest.fixture(scope="module")
def figures():
    from compbench.present import grids

    return grids


def assert_png(path):
    assert path.exists() and path.stat().st_size > 0
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:  # verify() leaves the file unusable: reopen to decode
        image.load()
        return image.size


@pytest.fixture(scope="module")
def sweep_result():
    result = api.run("jpeg:quality=20|60,jpeg2000:psnr=30", per_class=2, write=False)
    result = copy.copy(result)
    # panels as a learned codec would provide them (noisy input, float 8x8 code); the runner
    # gives codecs without panels empty dicts, which must draw nothing
    rng = np.random.default_rng(0)
    positions = sorted(result.samples["jpeg:quality=20"])[:4]
    result.panels = {
        "jpeg:quality=20": {p: {"noisy": result.data.images[p], "code 8x8": rng.normal(size=(8, 8))}
                            for p in positions},
        "jpeg:quality=60": {p: {} for p in positions},
    }
    return result


@pytest.fixture(scope="module")
def run_figures(sweep_result, tmp_path_factory, figures):
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as patch:  # one RD pair is enough here, and faster
        patch.setattr(figures, "RD_PAIRS", (("psnr", "bpp_payload"),))
        return out, figures.write_run_figures(sweep_result, out)


def test_run_figures_are_written_and_decode(run_figures, sweep_result, figures):
    out, paths = run_figures
    names = {p.name for p in paths}
    assert names == {"fig7_comparison.png", "fig6_jpeg_quality=20.png", "fig8_entropy.png",
                     "fig9_bpp.png", "fig10_snr.png", "rd_psnr_bpp_payload.png",
                     "rd_psnr_bpp_payload_by_class.png"}
    assert sorted(out.iterdir()) == sorted(paths)
    for path in paths:
        assert_png(path)
    # one grid row per sample image: 2 per class
    width, height = assert_png(out / "fig7_comparison.png")
    layout = figures.GridLayout(rows=20, cols=4, cell=4 * 28)
    assert (width, height) == (layout.width, layout.height)


def test_fig7_original_cell_is_the_digit_upscaled(run_figures, sweep_result, figures):
    out, _ = run_figures
    data = sweep_result.data
    first = min(sweep_result.samples["jpeg:quality=20"], key=lambda p: (data.labels[p], p))  # rows by class
    pixels = np.asarray(Image.open(out / "fig7_comparison.png").convert("L"))
    layout = figures.GridLayout(rows=20, cols=4, cell=4 * 28)
    x, y = layout.cell_origin(0, 0)
    np.testing.assert_array_equal(pixels[y:y + 112, x:x + 112], figures.upscale(data.images[first], 4))


def test_without_a_sweep_no_rd_curves_and_no_grids(tmp_path, figures):
    summary = synthetic_summary({"a": [(1.0, 30.0)], "b": [(2.0, 35.0)]})
    result = SimpleNamespace(summary=summary, samples={}, records=None, data=None, class_names=())
    paths = figures.write_run_figures(result, tmp_path)
    assert {p.name for p in paths} == {"fig8_entropy.png", "fig9_bpp.png", "fig10_snr.png"}


def test_svg_written_on_request(tmp_path, plots):
    summary = synthetic_summary({"a": [(1.0, 30.0), (2.0, 35.0)]}, classes=("x",))
    paths = plots.rd_curves(summary, tmp_path, formats=("png", "svg"))
    assert {p.name for p in paths} == {"rd_psnr_bpp.png", "rd_psnr_bpp.svg",
                                       "rd_psnr_bpp_by_class.png", "rd_psnr_bpp_by_class.svg"}
    for path in paths:
        if path.suffix == ".png":
            assert_png(path)
        else:
            assert "<svg" in path.read_text()[:2000]


def test_bad_format_and_metric_are_user_errors(tmp_path, plots):
    summary = synthetic_summary({"a": [(1.0, 30.0)]})
    with pytest.raises(CompbenchError, match="unknown figure format 'gif2'"):
        plots.rd_curves(summary, tmp_path, formats=("gif2",))
    with pytest.raises(CompbenchError, match="no column 'lpips_mean'"):
        plots.rd_curves(summary, tmp_path, y="lpips")


def test_codec_colors_one_per_codec_whatever_the_order(plots):
    colors = plots.codec_colors(["jpeg2000", "jpeg", "ddcae", "jpeg"])
    assert colors == plots.codec_colors(["ddcae", "jpeg", "jpeg2000"])
    assert len(set(colors.values())) == 3


def test_same_codec_same_color_in_different_plots(plots):
    from matplotlib.colors import to_rgb

    summary = synthetic_summary({"a": [(1.0, 30.0), (2.0, 33.0), (3.0, 36.0)], "b": [(1.5, 31.0)]})
    colors = plots.codec_colors(summary["codec"])
    # an RD plot of codec b alone and the bars of every codec: b keeps its color
    rd = plots.rd_figure(summary[summary["codec"] == "b"], "psnr", "bpp", colors)
    (line,) = rd.axes[0].get_lines()
    assert to_rgb(line.get_color()) == to_rgb(colors["b"])
    bars = plots.bars_figure(summary, ["bpp"], ["a:q=0", "a:q=1", "a:q=2", "b:q=0"], colors, "t")
    containers = {c.get_label(): c for c in bars.axes[0].containers if hasattr(c, "patches")}
    assert to_rgb(containers["b:q=0"].patches[0].get_facecolor()) == pytest.approx(to_rgb(colors["b"]))
    # several settings of one codec: its hue, lighter for lower rates, full color at the top
    assert to_rgb(containers["a:q=2"].patches[0].get_facecolor()) == pytest.approx(to_rgb(colors["a"]))
    assert to_rgb(containers["a:q=0"].patches[0].get_facecolor()) != pytest.approx(to_rgb(colors["a"]))


def test_nonfinite_points_are_skipped(tmp_path, plots):
    # a lossless setting (psnr inf) and a failed one (NaN) among finite points
    summary = synthetic_summary({"a": [(1.0, 30.0), (4.0, np.inf), (2.0, 33.0)], "b": [(1.0, np.nan)]})
    fig = plots.rd_figure(summary, "psnr", "bpp", plots.codec_colors("ab"))
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    np.testing.assert_array_equal(lines["a"].get_xdata(), [1.0, 2.0])  # sorted by rate, inf gone
    assert len(lines["b"].get_xdata()) == 0
    for path in plots.rd_curves(summary, tmp_path):
        assert_png(path)


def test_lossless_bar_is_marked_not_drawn(plots):
    summary = synthetic_summary({"a": [(1.0, np.inf)]})
    fig = plots.bars_figure(summary, ["snr_db"], ["a:q=0"], plots.codec_colors("a"), "t")
    assert [t.get_text() for t in fig.axes[0].texts] == ["∞"] * 4  # 3 classes and "all"


@pytest.mark.parametrize("classes", [("0", "1", "2"), tuple(str(c) for c in range(7))])
def test_one_rd_panel_per_class(classes, plots):
    summary = synthetic_summary({"a": [(1.0, 30.0), (2.0, 33.0)]}, classes=classes)
    fig = plots.rd_by_class_figure(plots._prepare(summary, ["psnr"]), "psnr", "bpp", plots.codec_colors("a"))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [f"class {c}" for c in classes]


def test_summary_read_back_from_csv_has_integer_classes(tmp_path, plots):
    summary = synthetic_summary({"a": [(1.0, 30.0), (2.0, 33.0)]})
    summary.to_csv(tmp_path / "summary.csv", index=False)
    paths = plots.rd_curves(pd.read_csv(tmp_path / "summary.csv"), tmp_path)
    assert [p.name for p in paths] == ["rd_psnr_bpp.png", "rd_psnr_bpp_by_class.png"]


def test_upscale_is_nearest_neighbour(figures):
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    big = figures.upscale(image, 5)
    assert big.shape == (15, 20)
    for r in range(3):
        for c in range(4):
            assert (big[5 * r:5 * r + 5, 5 * c:5 * c + 5] == image[r, c]).all()
    assert figures.upscale(np.zeros((2, 2, 3), np.uint8), 3).shape == (6, 6, 3)


def test_comparison_grid_is_pixel_exact(tmp_path, figures):
    rng = np.random.default_rng(1)
    originals = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)  # noise: any smoothing shows
    recon = {"a:q=1": list(originals[::-1]), "b": [originals[0], None]}  # None: a failed image
    stats = {"a:q=1": ([1.0, 2.0], [30.0, np.inf])}
    path = figures.comparison_grid(originals, [3, 7], [str(c) for c in range(10)], recon, stats,
                                   tmp_path / "grid.png", scale=3)
    pixels = np.asarray(Image.open(path).convert("L"))
    layout = figures.GridLayout(rows=2, cols=3, cell=3 * 28)
    for row, col, expected in [(0, 0, originals[0]), (1, 1, originals[0]), (0, 2, originals[0])]:
        x, y = layout.cell_origin(row, col)
        np.testing.assert_array_equal(pixels[y:y + 84, x:x + 84], figures.upscale(expected, 3))
    assert figures._caption(2.0, np.inf) == "2.00 bpp\nlossless"


def test_panel_grid_centres_and_stretches_a_float_code(tmp_path, figures):
    originals = np.zeros((2, 28, 28), np.uint8)
    code = np.arange(64, dtype=float).reshape(8, 8) - 10
    panels = {"code 8x8": [code, np.ones((8, 8))], "flat": [np.arange(64.0), None]}
    path = figures.panel_grid(originals, panels, tmp_path / "fig6.svg")
    assert path.suffix == ".svg" and path.stat().st_size > 0
    path = figures.panel_grid(originals, panels, tmp_path / "fig6.png")
    pixels = np.asarray(Image.open(path).convert("L"))
    x, y = figures.GridLayout(rows=2, cols=3, cell=112).cell_origin(0, 1)
    # 8x8 scaled by 14 fills the 112-pixel cell; per-image stretch: min -> 0, max -> 255
    shown = pixels[y:y + 112, x:x + 112]
    np.testing.assert_array_equal(shown, figures.upscale(figures.to_display(code), 14))
    assert shown.min() == 0 and shown.max() == 255
    assert (figures.to_display(np.ones((8, 8))) == 128).all()  # constant: mid-gray, no division by 0


def test_drawing_needs_no_pyplot(tmp_path):
    """Figure on its own Agg canvas: a caller's pyplot (and its backend) is left alone. In a
    fresh interpreter: in this one another test (or a plugin) may have imported pyplot."""
    script = ("import sys\n"
              "import numpy as np\n"
              "from compbench.present import charts as plots, grids as figures\n"
              "from test_plots import synthetic_summary\n"
              "from pathlib import Path\n"
              "out = Path(sys.argv[1])\n"
              "figures.panel_grid(np.zeros((1, 4, 4), np.uint8), {}, out / 'x.png')\n"
              "written = plots.rd_curves(synthetic_summary({'a': [(1.0, 30.0)]}, classes=()), out)\n"
              "print(len(written), 'matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "True", "False"]  # drew with matplotlib, never loaded pyplot
    assert (tmp_path / "x.png").exists() and (tmp_path / "rd_psnr_bpp.png").exists()


@pytest.fixture
def forking(monkeypatch):
    """Figures drawn on two processes even where this test process would not fork (torch
    imported by other tests)."""
    from compbench.run import local_pool

    monkeypatch.setattr(local_pool, "start_method_for", lambda registry=None: "fork")
    monkeypatch.setattr("compbench.run.machine.usable_cores", lambda: 2)


def test_figures_drawn_on_two_processes_are_those_drawn_on_one(sweep_result, tmp_path, monkeypatch, forking,
                                                               figures):
    """The same files, byte for byte, in the same order, whether a child draws half of them."""
    monkeypatch.setattr(figures, "RD_PAIRS", (("psnr", "bpp_payload"),))
    two = figures.write_run_figures(sweep_result, tmp_path / "two")
    monkeypatch.setattr("compbench.run.machine.usable_cores", lambda: 1)
    one = figures.write_run_figures(sweep_result, tmp_path / "one")
    assert [p.name for p in two] == [p.name for p in one] and len(one) == 7
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_figure_the_child_cannot_deliver_is_drawn_by_the_run(tmp_path, forking):
    """Both processes take the next figure until none is left; one that raises in the child,
    or kills it, is drawn again in the parent, in its place; one that raises in the parent too
    raises as it would serially."""
    import os
    import time

    from compbench.present.parallel import draw_all

    parent = os.getpid()

    def job(name, child_does=None, waits_for=()):
        def draw():
            if os.getpid() != parent and child_does is not None:
                child_does()
            deadline = time.monotonic() + 60  # a hang bound, not a speed limit
            while not all((tmp_path / other).exists() for other in waits_for) and time.monotonic() < deadline:
                time.sleep(0.01)
            (tmp_path / name).write_text(str(os.getpid()))
            return [tmp_path / name]
        return draw

    def fail():
        raise RuntimeError("child only")

    def drawer(name):
        return "run" if (tmp_path / name).read_text() == str(parent) else "child"

    # "a" waits for "c" and "d": only a process that is free takes them, so the two processes
    # share the jobs as they become free (halves fixed in advance would wait here forever)
    paths = draw_all([job("a", waits_for=("c", "d")), job("b", fail), job("c"), job("d")])
    assert [p.name for p in paths] == ["a", "b", "c", "d"]
    assert drawer("b") == "run" and drawer("c") == drawer("d") != drawer("a")

    paths = draw_all([job("e"), job("f", lambda: os._exit(3)), job("g")], order=[1, 0, 2])
    assert [p.name for p in paths] == ["e", "f", "g"] and drawer("f") == "run"

    def broken():
        raise ValueError("a bug in a chart")

    with pytest.raises(ValueError, match="a bug in a chart"):
        draw_all([job("x"), broken])


@pytest.mark.parametrize("cores", [2, 1])
def test_the_runs_other_work_is_done_once_in_the_run_beside_the_figures(tmp_path, monkeypatch, forking, cores):
    """``meanwhile`` (the run's BD tables) runs once, in this process, whether a child draws
    figures meanwhile or not; the figures come out in job order either way."""
    import os

    from compbench.present.parallel import draw_all

    monkeypatch.setattr("compbench.run.machine.usable_cores", lambda: cores)

    def job(name):
        def draw():
            (tmp_path / name).write_text(name)
            return [tmp_path / name]
        return draw

    done = []
    paths = draw_all([job("a"), job("b"), job("c")], order=[2, 0, 1], meanwhile=lambda: done.append(os.getpid()))
    assert done == [os.getpid()] and [p.name for p in paths] == ["a", "b", "c"]
