"""Whether two stored runs can be compared: the same images (dataset, its parameters, split,
the selected images and their checksums), the same settings, and the software each ran with."""

from __future__ import annotations

import pandas as pd

from ..contracts.errors import CompbenchError
from ..store.results_folder import KEYS, ResultsFolder, name_rows

#: checksum names shown before "and N more"
SHOWN_FILES = 3


def input_differences(base: ResultsFolder, new: ResultsFolder) -> list[str]:
    """What differs between the images the two runs measured, one phrase each ("split test vs
    train"); empty when they measured the same images. Runs without a manifest are compared on
    their summaries' dataset and split only."""
    before, after = _facts(base), _facts(new)
    if base.manifest is None or new.manifest is None:
        compared = ["summary"]
    elif before["dataset"] != after["dataset"]:
        compared = ["dataset"]  # its parameters, images and checksums differ for that reason alone
    else:
        compared = ["dataset_settings", "split", "selection"]
    differences = [f"{_NAMES[key]} {_shown(key, before)} vs {_shown(key, after)}" for key in compared
                   if _differs(key, before, after)]
    if compared[0] != "summary" and not differences and _differs("summary", before, after):
        # the summaries disagree with their manifests (an edited or mixed-up folder)
        differences.append(f"dataset/split {before['summary']} vs {after['summary']}")
    if compared[0] == "dataset_settings":
        checksums = _checksum_difference(base.manifest, new.manifest)
        differences += [checksums] if checksums else []
    return differences


_NAMES = {"summary": "dataset/split", "dataset": "dataset", "dataset_settings": "dataset parameters",
          "split": "split", "selection": "selected images"}


def _facts(run: ResultsFolder) -> dict:
    """The run's inputs as compared: from its manifest, and its summary's dataset and split."""
    facts = {"summary": ", ".join(sorted(set(run.summary["dataset"] + "/" + run.summary["split"])))}
    if run.manifest is not None:
        config, started = run.manifest.get("config") or {}, run.manifest.get("run") or {}
        facts.update(dataset=config.get("dataset", started.get("dataset")),
                     dataset_settings=config.get("dataset_settings") or {},
                     split=config.get("split", started.get("split")),
                     selection=(started.get("images"), started.get("limit"), started.get("per_class")),
                     image_ids=run.manifest.get("images_digest"))
    return facts


def _differs(key: str, before: dict, after: dict) -> bool:
    if key == "selection" and before["image_ids"] and after["image_ids"]:
        return before["image_ids"] != after["image_ids"]  # the images themselves, where both recorded them
    return before[key] != after[key]


def _shown(key: str, facts: dict) -> str:
    value = facts[key]
    if key == "dataset_settings":
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "(none)"
    if key == "selection":
        images, limit, per_class = value
        chosen = [f"--limit {limit}" if limit else "", f"--per-class {per_class}" if per_class else ""]
        return f"{' '.join(filter(None, chosen)) or 'all'} ({images} images)"
    return str(value)


def _checksum_difference(base: dict | None, new: dict | None) -> str | None:
    if base is None or new is None:
        return None
    before, after = base.get("dataset_checksums") or {}, new.get("dataset_checksums") or {}
    differ = [name for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)]
    if not differ:
        return None
    more = f" and {len(differ) - SHOWN_FILES} more" if len(differ) > SHOWN_FILES else ""
    return (f"image checksums ({len(differ)} of {len(before.keys() | after.keys())} files differ: "
            f"{', '.join(differ[:SHOWN_FILES])}{more})")


def check_same_inputs(base: ResultsFolder, new: ResultsFolder, hint: str = "") -> None:
    """Raise if the two runs did not measure the same images: their numbers would differ for
    that reason alone. ``hint`` ends the message (how to compare anyway, where one can)."""
    differences = input_differences(base, new)
    if differences:
        raise CompbenchError(f"{base.path} and {new.path} ran on different images ({'; '.join(differences)}): "
                             f"compare runs of the same dataset, split and images{hint}")


def check_same_rows(base: pd.DataFrame, new: pd.DataFrame) -> None:
    """Raise if the new summary lacks a row of the baseline's, or measured a different number
    of images for one."""
    matched = base.merge(new, on=KEYS, how="left", indicator=True, suffixes=("@base", "@new"))
    missing = matched[matched["_merge"] == "left_only"]
    if len(missing):
        raise CompbenchError(f"the new run lacks {len(missing)} baseline row(s): {name_rows(missing)}; "
                             "run the same codecs and settings as the baseline, or gate only the settings both "
                             "have with --only-common (or name the codecs with --codecs)")
    if {"count", "errors"} <= set(base.columns) & set(new.columns):
        images = {side: matched[f"count@{side}"] + matched[f"errors@{side}"] for side in ("base", "new")}
        differ = matched[images["base"] != images["new"]]
        if len(differ):
            raise CompbenchError(f"baseline and new measured different numbers of images for "
                                 f"{name_rows(differ)}: rerun with the same --limit/--per-class")


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
        return [f"the {' and the '.join(absent)} has no manifest.json: software versions and images not checked"]
    shared_codecs = set(baseline.get("codec_libraries", {})) & set(new.get("codec_libraries", {}))
    kinds = {
        "compbench versions": lambda m: {"compbench": m.get("compbench")},
        "Python versions": lambda m: {"python": m.get("python")},
        "library versions": lambda m: m.get("libraries", {}),
        "plugin versions": _plugin_versions,
        "codec library versions": lambda m: _codec_library_versions(m, shared_codecs),
    }
    warnings = []
    for kind, versions in kinds.items():
        before, after = versions(baseline), versions(new)
        moved = [f"{name} {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
                 for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)]
        if moved:
            warnings.append(f"{kind} differ (baseline -> new): {', '.join(moved)}")
    return warnings
