"""The fuzz run's reach report, as pytest hooks (registered by tests/conftest.py, so that the xdist controller
runs them too): every request of tests/fuzz/test_api_fuzz.py is appended to a JSON-lines file (FUZZ_REPORT, or a
temporary file for the run, shared with the xdist workers through the environment); at the end the controller
prints which operations got no 2xx, per person, and when the whole matrix ran (every operation as all four
people), fails the session if an operation not listed in tests/fuzz/reach.py:UNREACHABLE got no 2xx from anyone
(FUZZ_REACH_ANY=1 turns that check off, e.g. with FUZZ_EXAMPLES=1)."""

import os
import tempfile

import pytest

from tests.fuzz import reach

OWN_REPORT = "_FUZZ_OWN_REPORT"


def pytest_configure(config):
    if hasattr(config, "workerinput"):  # an xdist worker: the controller set the environment
        return
    if not os.environ.get("FUZZ_REPORT"):
        handle, path = tempfile.mkstemp(prefix="fuzz-", suffix=".jsonl")
        os.close(handle)
        os.environ["FUZZ_REPORT"] = path
        os.environ[OWN_REPORT] = path


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return
    path = os.environ.get("FUZZ_REPORT", "")
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    summary = reach.summarise(reach.load(path))
    lines = [reach.text(summary)]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    ran = reporter.stats.get("passed", []) + reporter.stats.get("failed", []) if reporter else []
    fuzz_calls = {r.nodeid for r in ran if "test_api_fuzz" in r.nodeid and r.when == "call"}
    whole_matrix = len(summary["roles"]) == 4 and len(fuzz_calls) >= summary["operations"] * 4
    unexpected = [op for op in summary["unreached"] if op not in reach.UNREACHABLE]
    if unexpected and whole_matrix and not os.environ.get("FUZZ_REACH_ANY"):
        lines.append(f"fuzz reach: FAILED, {len(unexpected)} operations got no 2xx and are not listed in "
                     "tests/fuzz/reach.py: UNREACHABLE")  # fmt: skip
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config._fuzz_reach_text = "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    text = getattr(config, "_fuzz_reach_text", "")
    if text:
        terminalreporter.section("fuzz reach")
        terminalreporter.write_line(text)


def pytest_unconfigure(config):
    path = os.environ.pop(OWN_REPORT, "")
    if path:
        os.environ.pop("FUZZ_REPORT", None)
        if os.path.exists(path):
            os.unlink(path)
