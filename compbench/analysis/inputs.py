"""Whether two stored runs can be compared: the same images, and the software each ran with."""

from __future__ import annotations

from ..contracts.errors import CompbenchError
from ..store.results_folder import KEYS, ResultsFolder, name_rows


def check_same_inputs(base: ResultsFolder, new: ResultsFolder) -> None:
    """Raise if the two runs did not measure the same images: their numbers would differ for
    that reason alone."""
    def datasets(run: ResultsFolder) -> str:
        return ", ".join(sorted(set(run.summary["dataset"] + "/" + run.summary["split"])))

    if datasets(base) != datasets(new):
        raise CompbenchError(f"baseline ran on {datasets(base)} but new ran on {datasets(new)}: "
                             "compare runs of the same dataset and split")
    if base.manifest is not None and new.manifest is not None:
        before, after = base.manifest.get("run", {}), new.manifest.get("run", {})
        if before.get("images") != after.get("images"):
            raise CompbenchError(f"baseline ran {before.get('images')} images but new ran {after.get('images')}: "
                                 "rerun with the same --limit/--per-class")
        selection = ("limit", "per_class")
        if [before.get(k) for k in selection] != [after.get(k) for k in selection]:
            raise CompbenchError(f"baseline and new chose their images differently "
                                 f"(baseline {_selection(before)}, new {_selection(after)}): "
                                 "rerun with the same --limit/--per-class")
    matched = base.summary.merge(new.summary, on=KEYS, how="left", indicator=True, suffixes=("@base", "@new"))
    missing = matched[matched["_merge"] == "left_only"]
    if len(missing):
        raise CompbenchError(f"the new run lacks {len(missing)} baseline row(s): {name_rows(missing)}; "
                             "run the same codecs and settings as the baseline")
    if {"count", "errors"} <= set(base.summary.columns) & set(new.summary.columns):
        images = {side: matched[f"count@{side}"] + matched[f"errors@{side}"] for side in ("base", "new")}
        differ = matched[images["base"] != images["new"]]
        if len(differ):
            raise CompbenchError(f"baseline and new measured different numbers of images for "
                                 f"{name_rows(differ)}: rerun with the same --limit/--per-class")


def _selection(run: dict) -> str:
    chosen = [f"--limit {run['limit']}" if run.get("limit") else "",
              f"--per-class {run['per_class']}" if run.get("per_class") else ""]
    return " ".join(filter(None, chosen)) or "all images"


def _plugin_versions(manifest: dict) -> dict:
    return dict(line.split("==", 1) if "==" in line else (line, "?") for line in manifest.get("plugins", []))


def _codec_library_versions(manifest: dict, codecs: set) -> dict:
    return {f"{codec} {library}": version for codec, libraries in manifest.get("codec_libraries", {}).items()
            if codec in codecs for library, version in (libraries or {}).items()}


def version_warnings(baseline: dict | None, new: dict | None) -> list[str]:
    """One line per kind of software that differs between the two manifests; results may move
    for that reason alone, so it is shown but does not fail the comparison."""
    absent = [name for name, manifest in (("baseline", baseline), ("new run", new)) if manifest is None]
    if absent:
        return [f"the {' and the '.join(absent)} has no manifest.json: software versions not checked"]
    shared_codecs = set(baseline.get("codec_libraries", {})) & set(new.get("codec_libraries", {}))
    kinds = {
        "compbench versions": lambda m: {"compbench": m.get("compbench")},
        "Python versions": lambda m: {"python": m.get("python")},
        "library versions": lambda m: m.get("libraries", {}),
        "plugin versions": _plugin_versions,
        "codec library versions": lambda m: _codec_library_versions(m, shared_codecs),
        "dataset checksums": lambda m: m.get("dataset_checksums", {}),
    }
    warnings = []
    for kind, versions in kinds.items():
        before, after = versions(baseline), versions(new)
        moved = [f"{name} {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
                 for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)]
        if moved:
            warnings.append(f"{kind} differ (baseline -> new): {', '.join(moved)}")
    return warnings


