"""The folder's PNG figures, embedded as ``data:`` URIs and grouped by file name into the
sections that discuss them; each caption says what the figure shows and what its error bars are."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ...metrics import MetricSet

#: figure groups: (id, file-name prefixes); "other" takes the rest
GROUPS = (("rd", ("rd_",)), ("comparison", ("fig7",)), ("paper", ("fig6", "fig8", "fig9", "fig10")),
          ("other", ("",)))
BARS_NOTE = "Bars: means over the class's images; error bars: ±1 standard deviation over those images (not a confidence interval)."
CAPTIONS = {
    "fig7_comparison": "Fig. 7: originals and reconstructions at matched rates (1:1 crops of the same region "
                       "for images larger than a cell), each with that image's bpp and PSNR. No error bars.",
    "fig8_entropy": "Fig. 8: mean histogram entropy of the reconstructions per class (the paper's \"entropy\"; "
                    "not a rate). " + BARS_NOTE,
    "fig9_bpp": "Fig. 9: mean bits per pixel per class, from the real bitstreams. " + BARS_NOTE,
    "fig10_snr": "Fig. 10: SNR per class: the honest SNR beside the paper's (mean/std of the reconstruction). "
                 + BARS_NOTE,
}
RD_NOTE = "Points: means over all images of a setting; no error bars (the standard deviations are in the tables)."
#: figures are shown at this resolution (CSS px per inch); wider than ZOOM_WIDTH they get a toggle
SCREEN_DPI = 100
ZOOM_WIDTH = 1240


@dataclass(frozen=True)
class Figure:
    file: str
    uri: str
    caption: str
    #: other files of the same figure (an SVG)
    files: str
    width: int
    height: int
    full_width: int
    zoom_id: str = ""


def figure_groups(results_dir: Path, problems: list[str], declared: MetricSet) -> dict[str, list[Figure]]:
    """Group id -> its figures, in natural file order (fig9 before fig10)."""
    groups: dict[str, list[Figure]] = {gid: [] for gid, _ in GROUPS}
    for png in sorted(results_dir.glob("*.png"), key=lambda p: _natural(p.name)):
        figure = embed(png, problems, declared)
        if figure is not None:
            gid = next(gid for gid, prefixes in GROUPS if png.name.startswith(prefixes))
            groups[gid].append(figure)
    return groups


def embed(png: Path, problems: list[str], declared: MetricSet) -> Figure | None:
    """One PNG shown at 100 dpi (matplotlib's 150-dpi PNGs are not blown up); an undecodable
    file is named in ``problems``, not shown broken."""
    data = png.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"it is {image.format}, not PNG")
            width, height = image.size
            dpi = float((image.info.get("dpi") or (0, 0))[0])
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        problems.append(f"figure {png.name} left out: {exc}")
        return None
    scale = SCREEN_DPI / dpi if dpi > SCREEN_DPI else 1.0
    files = png.name + (f", {png.stem}.svg" if png.with_suffix(".svg").exists() else "")
    shown = round(width * scale)
    return Figure(png.name, "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
                  caption(png.stem, declared), files, shown, round(height * scale), width,
                  f"zoom-{_slug(png.stem)}" if shown > ZOOM_WIDTH else "")


def caption(stem: str, declared: MetricSet | None = None) -> str:
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    if stem.startswith("rd_"):  # rd_<quality>_<rate>[_by_class]
        rest = stem[len("rd_"):]
        per_class = rest.endswith("_by_class")
        rest = rest[: -len("_by_class")] if per_class else rest
        rates = {m.name for m in (declared or MetricSet()) if m.rate_axis} | {"bpp_pooled"}
        rate = next((r for r in sorted(rates, key=len, reverse=True) if rest.endswith("_" + r)), None)
        what = f"{rest[: -len(rate) - 1]} vs {rate}" if rate else rest.replace("_", " ")
        return f"Rate-distortion: {what}" + (", per class" if per_class else "") + ". " + RD_NOTE
    if stem.startswith("fig6_"):
        return f"Fig. 6: originals, codec panels and reconstructions, {stem[len('fig6_'):]}. No error bars."
    return stem.replace("_", " ")


def paper_heading(figures: list[Figure]) -> str:
    """"The paper's figures (Figs. 6, 8-10)", naming only the figures drawn."""
    numbers = sorted({int(m.group(1)) for f in figures if (m := re.match(r"fig(\d+)", f.file))})
    if not numbers:
        return "The paper's figures"
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in spans)
    return f"The paper's figures (Fig{'s' if len(numbers) > 1 else ''}. {text})"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def _natural(name: str) -> list:
    """Sort key putting fig9 before fig10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
