"""Property tests: whatever a user types as --codecs, the parser answers with specs or with
compbench's own one-line error, never another exception, and never expands without bound."""

import string

from compbench.contracts.errors import CompbenchError
from compbench.run.spec import MAX_SETTINGS, parse_codec_specs

# the characters of the grammar, codec and parameter names, and numbers
ALPHABET = ",:=|./-+ " + string.ascii_lowercase[:8] + "0123456789" + "eEnaifpqujty"
WORDS = ["jpeg", "jpeg2000", "quality", "psnr", "ratio", "numres", "backend", "nan", "inf",
         "-inf", "1e308", "1..2e7", "..", "|", "10..90/10", "0.5", "glymur", "1e-320"]


def test_spec_parser_only_raises_its_own_error(registry):
    # hypothesis is imported here, when the test runs, not when it is collected
    from hypothesis import given, settings
    from hypothesis import strategies as st

    spec_text = st.lists(st.one_of(st.text(ALPHABET, max_size=6), st.sampled_from(WORDS)), max_size=12).map("".join)

    @settings(max_examples=400, deadline=None)
    @given(text=st.one_of(spec_text, st.text(max_size=40)))
    def parses_or_says_why_in_one_line(text):
        try:
            specs = parse_codec_specs(text, registry)
        except CompbenchError as exc:
            message = str(exc)
            assert message and "\n" not in message
        else:
            assert 0 < len(specs) <= MAX_SETTINGS

    parses_or_says_why_in_one_line()
