"""Property tests: whatever a user types as --codecs, the parser answers with specs or with
compbench's own one-line error, never another exception, and never expands without bound."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compbench.contracts.errors import CompbenchError
from compbench.run.spec import MAX_SETTINGS, parse_codec_specs

# the characters of the grammar, codec and parameter names, and numbers
ALPHABET = ",:=|./-+ " + string.ascii_lowercase[:8] + "0123456789" + "eEnaifpqujty"
WORDS = st.sampled_from(["jpeg", "jpeg2000", "quality", "psnr", "ratio", "numres", "backend", "nan", "inf",
                         "-inf", "1e308", "1..2e7", "..", "|", "10..90/10", "0.5", "glymur", "1e-320"])
SPEC_TEXT = st.lists(st.one_of(st.text(ALPHABET, max_size=6), WORDS), max_size=12).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(SPEC_TEXT, st.text(max_size=40)))
def test_spec_parser_only_raises_its_own_error(registry, text):
    try:
        specs = parse_codec_specs(text, registry)
    except CompbenchError as exc:
        message = str(exc)
        assert message and "\n" not in message
    else:
        assert 0 < len(specs) <= MAX_SETTINGS
