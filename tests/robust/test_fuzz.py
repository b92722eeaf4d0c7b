"""Every decoder of untrusted bytes, fuzzed for a bounded number of cases (``bench/fuzz.py`` runs millions).

A decoder may return or raise its documented error; anything else (IndexError, UnicodeDecodeError, RecursionError,
OverflowError...) is a bug. Failures are shrunk by hypothesis and kept in its example database (.hypothesis/).
"""

from __future__ import annotations

import pytest
from fuzz_targets import TARGETS, seeds
from fuzzing import CORPUS, check, inputs
from hypothesis import HealthCheck, given, settings

from monitor.errors import ConfigError, DatasetError

CI_CASES = 300


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_decoder_raises_only_its_own_errors(name: str) -> None:
    for data in seeds(name, CORPUS):  # warms the targets' caches (parser, session) outside hypothesis's timing
        check(name, data)

    @settings(max_examples=CI_CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(inputs(name))
    def fuzz(data: bytes) -> None:
        check(name, data)

    fuzz()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_corpus_seeds_are_committed_and_accepted(name: str) -> None:
    files = sorted((CORPUS / name).glob("*"))
    assert files, f"no corpus for {name}: run bench/fuzz.py --write-corpus"
    for data in seeds(name, CORPUS):
        check(name, data)


# What fuzzing found, kept as plain regressions.


def test_config_file_that_is_not_utf8_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--config"):
        TARGETS["config"].run(b"\x80")


def test_overlay_csv_with_a_stray_carriage_return_is_a_dataset_error() -> None:
    from monitor.hosting.formats import read_overlay

    with pytest.raises(DatasetError):  # was _csv.Error: "new-line character seen in unquoted field"
        read_overlay(b"\r\x00", "x/overlay.csv", "2026-01-01")
