"""What the page carries inside it: the stylesheet, the page's script and plotly.js, read from
the installed packages (plotly.js from the pinned ``plotly`` distribution, which ships it as
``package_data/plotly.min.js``; nothing is vendored or fetched)."""

from __future__ import annotations

import functools
import re
from importlib import resources

STATIC = resources.files(__package__) / "static"


@functools.cache
def stylesheet() -> str:
    return (STATIC / "report.css").read_text(encoding="utf-8")


@functools.cache
def page_script() -> str:
    return inline_script((STATIC / "report.js").read_text(encoding="utf-8"))


@functools.cache
def plotly_js() -> str | None:
    """plotly.min.js, or None where plotly is not installed (the page keeps its static figures
    and says so)."""
    try:
        source = resources.files("plotly") / "package_data" / "plotly.min.js"
        return inline_script(source.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None


def inline_script(source: str) -> str:
    """A script made safe to sit between <script> and </script>: "</script" and "<!--" would end
    or confuse the element; inside JavaScript text "<\\/" and "<\\!" read the same."""
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE).replace("<!--", "<\\!--")
