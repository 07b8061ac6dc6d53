"""The audit policy of scripts/check: what fails CI and what is only reported.

The advisory services cannot always be reached from CI, so the verdicts are tested here on
reports shaped as pip-audit and npm audit write them (``--format json`` / ``--json``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SUMMARY = Path(__file__).resolve().parents[1] / "scripts" / "audit_summary.py"


def _pip_report(*dependencies: tuple[str, str, list[str]]) -> dict[str, object]:
    return {
        "dependencies": [
            {"name": name, "version": version, "vulns": [{"id": advisory, "fix_versions": [], "aliases": []} for advisory in advisories]}
            for name, version, advisories in dependencies
        ],
        "fixes": [],
    }


def _summary(
    tmp_path: Path, kind: str, *reports: object, lock: str | None = None, errors: str | None = None
) -> subprocess.CompletedProcess[str]:
    paths = []
    for number, report in enumerate(reports):
        path = tmp_path / f"{kind}-{number}.json"
        if report is not None:  # None: the tool wrote nothing, its service was not reachable
            path.write_text(json.dumps(report), encoding="utf-8")
        paths.append(str(path))
    if lock is not None:
        (tmp_path / "requirements.lock").write_text(lock, encoding="utf-8")
        paths.append(str(tmp_path / "requirements.lock"))
    if errors is not None:  # what pip-audit wrote on stderr
        (tmp_path / "pip-audit.err").write_text(errors, encoding="utf-8")
        paths.append(str(tmp_path / "pip-audit.err"))
    return subprocess.run([sys.executable, str(SUMMARY), kind, *paths], capture_output=True, text=True, check=False)


def test_a_known_vulnerability_in_a_runtime_dependency_fails(tmp_path: Path) -> None:
    runtime = _pip_report(("aiohttp", "3.14.5", ["GHSA-test-0001"]), ("yarl", "1.25.1", []))
    result = _summary(tmp_path, "pip", runtime, runtime, lock="aiohttp==3.14.5 \\\n    --hash=sha256:00\nyarl==1.25.1\n")
    assert result.returncode == 1
    assert "aiohttp 3.14.5 is vulnerable: GHSA-test-0001" in result.stdout


def test_a_vulnerability_in_a_dev_tool_only_is_reported_not_failing(tmp_path: Path) -> None:
    runtime = _pip_report(("aiohttp", "3.14.5", []))
    dev = _pip_report(("aiohttp", "3.14.5", []), ("py-spy", "0.4.3", ["PYSEC-test-0002"]))
    result = _summary(tmp_path, "pip", runtime, dev, lock="aiohttp==3.14.5\n")
    assert result.returncode == 0
    assert "dev only, reported): py-spy 0.4.3: PYSEC-test-0002" in result.stdout


def test_an_unreachable_advisory_service_is_said_out_loud(tmp_path: Path) -> None:
    result = _summary(tmp_path, "pip", None, None, lock="aiohttp==3.14.5\n")
    assert result.returncode == 3  # scripts/check fails on it only with AUDITS=required
    assert "NOT AUDITED" in result.stdout


def test_a_runtime_npm_finding_fails_and_a_dev_one_is_reported(tmp_path: Path) -> None:
    clean = {"vulnerabilities": {}, "metadata": {"vulnerabilities": {"total": 0}, "dependencies": {"prod": 1}}}
    dev_findings = {"vulnerabilities": {}, "metadata": {"vulnerabilities": {"total": 2}, "dependencies": {"prod": 1}}}
    reported = _summary(tmp_path, "npm", clean, dev_findings)
    assert reported.returncode == 0
    assert "dev tools only, reported): 2 known vulnerabilities" in reported.stdout
    runtime_finding = {
        "vulnerabilities": {"left-pad": {"severity": "high"}},
        "metadata": {"vulnerabilities": {"total": 1}, "dependencies": {"prod": 2}},
    }
    failed = _summary(tmp_path, "npm", runtime_finding, runtime_finding)
    assert failed.returncode == 1
    assert "runtime package left-pad is vulnerable (high)" in failed.stdout


def test_a_pip_audit_that_fails_for_another_reason_than_the_network_fails(tmp_path: Path) -> None:
    result = _summary(tmp_path, "pip", None, None, lock="aiohttp==3.14.5\n")
    assert result.returncode == 3  # no error output given: the service was not reachable
    hashes = "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
    failed = _summary(tmp_path, "pip", None, None, lock="aiohttp==3.14.5\n", errors=hashes)
    assert failed.returncode == 1
    assert "DO NOT MATCH THE HASHES" in failed.stdout
    offline = "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/aiohttp/json\n"
    unreachable = _summary(tmp_path, "pip", None, None, lock="aiohttp==3.14.5\n", errors=offline)
    assert unreachable.returncode == 3
    assert "NOT AUDITED" in unreachable.stdout
