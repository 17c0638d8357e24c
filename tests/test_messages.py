"""Warnings said once (geoapp.messages.group_warnings): worked examples."""

from __future__ import annotations

from geoapp.messages import MAX_EXAMPLES, group_warnings


def test_exact_repeats_are_dropped_in_order():
    lines = ["No streets.", "Few buildings.", "No streets.", "", "  Few buildings.  "]
    assert group_warnings(lines) == ["No streets.", "Few buildings."]


def test_lines_differing_by_a_name_and_numbers_become_one_line_with_a_count():
    lines = [
        "Place 'Aach' (village, node/1): population tag 3,180, estimate 13,719.",
        "No streets.",
        "Place 'Bach' (village, node/2): population tag 900, estimate 2,000.",
        "Place 'Cach' (village, node/3): population tag 1,200, estimate 5,000.",
        "Place 'Dach' (village, node/4): population tag 70, estimate 300.",
    ]
    out = group_warnings(lines)
    assert len(out) == 2 and out[1] == "No streets."
    # the first line in full, the count, then what differs in the next MAX_EXAMPLES - 1
    assert out[0] == (
        "Place 'Aach' (village, node/1): population tag 3,180, estimate 13,719. "
        "(4 warnings like this one, also: 'Bach', 2, 900, 2,000; 'Cach', 3, 1,200, 5,000; …)"
    )
    assert MAX_EXAMPLES == 3


def test_a_tiled_extract_repeating_one_warning_72_times_gives_one_line():
    line = "Layer 'x': 9 demand points (e.g. way/22) have a fragment as nearest street."
    assert group_warnings([line] * 72) == [line]


def test_lines_of_different_words_stay_apart():
    lines = ["District 'A' is partly covered (1% of its area).", "Place 'A' is far (1% of it)."]
    assert group_warnings(lines) == lines


def test_cli_says_each_warning_once(capsys):
    """A warning printed in the run's "Data warnings" block is not repeated on stderr;
    the others are said once, grouped, when the run ends (found on real extracts: every
    warning reached the terminal twice, one stderr line per place)."""
    import logging

    from geoapp import cli

    log = logging.getLogger("geoapp.demand.checks")
    with cli._cli_logging(False):
        log.warning("Place 'A' has 10 residents but its tag says 100.")
        log.warning("Place 'B' has 20 residents but its tag says 200.")
        log.warning("Place 'B' has 20 residents but its tag says 200.")
        log.warning("The extract has no buildings.")
        log.warning("District 'X' is partly covered (1% of its area).")
        log.warning("District 'Y' is partly covered (2% of its area).")
        shown = group_warnings(
            [
                "The extract has no buildings.",
                "District 'X' is partly covered (1% of its area).",
                "District 'Y' is partly covered (2% of its area).",
            ]
        )
        cli._print_assumptions({}, shown)  # the run's warnings arrive grouped
        during = capsys.readouterr()
        assert "WARNING" not in during.err  # held until the run ends
        assert during.out.count("no buildings") == 1  # the run's block
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.startswith("WARNING")]
    assert len(lines) == 1 and "'A'" in lines[0] and "'B'" in lines[0]  # grouped, once
    assert "no buildings" not in captured.err  # said in the block only
    assert "partly covered" not in captured.err  # said in the block, as a group
