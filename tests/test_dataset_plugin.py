"""An outside dataset plugin with parameters, installed as its own distribution: it shows in
`compbench list` with its parameters and runs with `--dataset name:key=value`."""

import json
from pathlib import Path

import pytest
from conftest import install_as_distribution, make_visible

from compbench.store.records_reader import read_records

PROJECT = Path(__file__).parent / "thirdparty" / "compbench_gradients"


@pytest.fixture
def with_gradients(tmp_path_factory, monkeypatch):
    return make_visible(install_as_distribution(PROJECT, tmp_path_factory.mktemp("gradients-site")), monkeypatch)


def test_listed_with_its_parameters(with_gradients, cli_main):
    done = cli_main("list")
    entry = listed_entry(done.stdout, "gradients")
    assert "compbench-gradients 0.3.0" in entry and "count=20 [1..100000]" in entry and "colour=False" in entry
    listed = {d["name"]: d for d in json.loads(cli_main("list", "--json").stdout)["datasets"]}
    assert [p["name"] for p in listed["gradients"]["params"]] == ["count", "size", "colour"]


def listed_entry(listing: str, name: str) -> str:
    """One entry of `compbench list`: its first line (the name at the indent of the section's
    names) and its wrapped continuation lines, joined by spaces."""
    lines = listing.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [name])
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next((i for i in range(start + 1, len(lines))
                if not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) <= indent), len(lines))
    return " ".join(line.strip() for line in lines[start:end])


def test_runs_with_parameters_given_in_the_spec(with_gradients, cli, tmp_path):
    out = tmp_path / "run"
    done = cli("run", "--dataset", "gradients:count=12:size=40:colour=true", "--codecs", "jpeg,png,ddcae",
               "--out", out, "--quiet", "--no-figures")
    assert done.returncode == 0, done.stderr
    records = read_records(out / "records.csv")
    assert sorted(set(records["codec"])) == ["jpeg", "png"]  # ddcae: not applicable, said once
    assert (records.groupby("codec").size() == 12).all() and (records["pixels"] == 1600).all()
    assert set(records["class"]) == {"horizontal", "vertical"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["dataset_settings"] == {"count": "12", "size": "40", "colour": "true"}
    assert "note: ddcae is not applicable to 12 of 12 images" in done.stderr


@pytest.mark.parametrize("spec,fragment", [
    ("gradients:count=0", "count=0 is out of range; valid: count=1..100000"),
    ("gradients:shape=4", "unknown parameter 'shape'; valid: count=1..100000"),
    ("gradients:count=5:count=6", "gives count= twice"),
])
def test_bad_dataset_parameters_are_one_line_errors(with_gradients, cli_main, spec, fragment):
    done = cli_main("run", "--dataset", spec, "--codecs", "jpeg", "--quiet")
    assert done.returncode == 2 and fragment in done.stderr and done.stderr.count("\n") == 1
