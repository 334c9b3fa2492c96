"""The codecs' own work of a sweep, without the harness: ``python _bare_sweep.py CODECS LIMIT K N``
codes every K-th of N shares of the (setting, 500-image batch) pairs that ``compbench run
--codecs CODECS --sweep --limit LIMIT`` would code (each codec's default ladder, the MNIST test
digits), with the codec objects' own batch calls, and prints the seconds of that loop alone
(imports and data loading before it are not counted). It prints "ready" when it has loaded
everything and starts its loop on a line from standard input, so that N of them code at once. Run once with N=1 and as N processes
together, it gives the most any harness could gain from N workers on this machine: the
codecs' own scaling, which shared caches and clocks cap below N."""

from __future__ import annotations

import sys
import time

from compbench import api
from compbench.contracts.registry import build_registry
from compbench.run.spec import parse_codec_specs

#: images per share's batch call: small enough that N shares get equal work, as the harness's
#: units are at 2 workers on 4,000 digits (images / (4 x workers); compbench/run/units.py)
UNIT = 500


def main() -> None:
    codecs, limit, share, shares = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    registry = build_registry()
    images = list(api.load_dataset("mnist", "test").read(range(limit)))
    work = [(spec, start) for spec in parse_codec_specs(codecs, registry, sweep=True)
            for start in range(0, limit, UNIT)][share::shares]
    coders = {spec.label: registry.codec(spec.name).create(**spec.kwargs) for spec, _ in work}
    print("ready", flush=True)
    sys.stdin.readline()
    begin = time.perf_counter()
    for spec, start in work:
        coder = coders[spec.label]
        coder.decode_batch(coder.encode_batch(images[start : start + UNIT]))
    print(time.perf_counter() - begin)


if __name__ == "__main__":
    main()
