"""The HTML report: one self-contained page over a run or a results folder, rendered from
Jinja templates (``templates/``) and one stylesheet (``static/report.css``), with the figures
as ``data:`` URIs and plotly.js, the data and the page's script inside it, so the single file
opens offline, mailed or archived on its own. Everything from the folder or the run is
escaped by the templates' autoescaping."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from ...store.files import write_atomic
from .chart_data import ReferenceCurve
from .inputs import ReportInputs, read_inputs
from .page import PreparedPage, complete, prepare

__all__ = ["PreparedPage", "ReferenceCurve", "ReportInputs", "prepare", "read_inputs", "render_report", "write_report"]

_ENVIRONMENT = Environment(loader=PackageLoader(__name__, "templates"), autoescape=True,
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
# |tojson sorts keys by default; the page's JSON keeps run order (settings, metrics, codecs)
_ENVIRONMENT.policies["json.dumps_kwargs"] = {"sort_keys": False}


def write_report(results_dir: Path, inputs: ReportInputs | PreparedPage | None = None,
                 out_name: str = "report.html") -> Path:
    """Write one self-contained HTML report into ``results_dir``; return its path.

    ``inputs``: what to show (default: whatever the folder holds, read leniently: summary.csv,
    manifest.json, bdrate.csv and records.csv a chunk at a time), or a page already prepared
    from them (:func:`prepare`: a run prepares its page while its figures are drawn); the
    figures are the folder's PNGs. Raises :class:`CompbenchError` when the folder holds neither
    summary.csv nor manifest.json.
    """
    results_dir = Path(results_dir)
    page = render_report(results_dir, inputs or read_inputs(results_dir))
    return write_atomic(results_dir / out_name, page)  # readers never see half a report


def render_report(results_dir: Path, inputs: ReportInputs | PreparedPage) -> str:
    """The report page of a results folder, as a string."""
    prepared = inputs if isinstance(inputs, PreparedPage) else prepare(inputs)
    return _ENVIRONMENT.get_template("report.html.j2").render(complete(prepared, Path(results_dir))) + "\n"
