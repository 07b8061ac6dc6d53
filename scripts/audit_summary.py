"""Reads pip-audit's and npm audit's JSON for scripts/check and prints one short verdict.

Exit status: 0 nothing known (or nothing could be asked), 1 a known vulnerability that fails the
check, 3 the advisory service could not be reached or could not answer for some packages.

    python scripts/audit_summary.py pip RUNTIME.json DEV.json RUNTIME_LOCK [RUNTIME_STDERR]

A pip-audit that wrote no report is "unreachable" only when its error output says the network
failed; any other failure (a hash mismatch, a broken install, a crash) fails the check.
    python scripts/audit_summary.py npm RUNTIME.json ALL.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

_FAIL, _UNREACHABLE = 1, 3
# What pip-audit (through requests/urllib3) says when the advisory service cannot be reached.
_NETWORK_FAILURE = re.compile(r"ConnectionError|ConnectTimeout|ReadTimeout|Max retries exceeded|Name or service not known|timed out")


def _load(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the tool stopped before writing a report: its service was not reachable


def _pip(runtime_path: str, dev_path: str, runtime_lock: str, runtime_errors: str | None = None) -> int:
    runtime, dev = _load(runtime_path), _load(dev_path)
    if runtime is None:
        errors = Path(runtime_errors).read_text(encoding="utf-8", errors="replace") if runtime_errors else ""
        if runtime_errors and not _NETWORK_FAILURE.search(errors):
            print(f"pip-audit: FAILED without a report: {errors.strip()[-500:] or 'no error output'}")
            return _FAIL
        print("pip-audit: NOT AUDITED, the advisory service could not be reached")
        return _UNREACHABLE
    status = 0
    found = [(d["name"], d["version"], v["id"]) for d in runtime["dependencies"] for v in d.get("vulns", [])]
    for name, version, advisory in found:
        print(f"pip-audit: runtime dependency {name} {version} is vulnerable: {advisory}")
        status = _FAIL
    skipped = [d["name"] for d in runtime["dependencies"] if d.get("skip_reason")]
    if skipped and status != _FAIL:
        print(
            f"pip-audit: NOT AUDITED, the advisory service had no answer for {len(skipped)} of "
            f"{len(runtime['dependencies'])} runtime packages (e.g. {skipped[0]})"
        )
        status = _UNREACHABLE
    locked = set(re.findall(r"^([A-Za-z0-9._-]+)==", Path(runtime_lock).read_text(encoding="utf-8"), re.MULTILINE))
    runtime_names = {name.lower().replace("_", "-") for name in locked}
    for dependency in (dev or {}).get("dependencies", []):
        if dependency["name"].lower() not in runtime_names:
            for advisory in dependency.get("vulns", []):
                print(f"pip-audit (dev only, reported): {dependency['name']} {dependency['version']}: {advisory['id']}")
    if status == 0:
        print(f"pip-audit: no known vulnerability in {len(runtime['dependencies'])} runtime packages")
    return status


def _npm(runtime_path: str, all_path: str) -> int:
    runtime, everything = _load(runtime_path), _load(all_path)
    if runtime is None or "metadata" not in runtime:
        print("npm audit: NOT AUDITED, the advisory service could not be reached")
        return _UNREACHABLE
    counts = runtime["metadata"]["vulnerabilities"]
    status = _FAIL if counts["total"] else 0
    for name, finding in runtime.get("vulnerabilities", {}).items():
        print(f"npm audit: runtime package {name} is vulnerable ({finding.get('severity')})")
    if everything and "metadata" in everything:
        total = everything["metadata"]["vulnerabilities"]["total"]
        if total:
            print(f"npm audit (dev tools only, reported): {total} known vulnerabilities; run `npm audit` for the list")
    else:
        print("npm audit (dev tools only, reported): not audited, the advisory service could not be reached")
    if status == 0:
        # npm counts the project itself as one "prod" dependency.
        production = max(runtime["metadata"]["dependencies"].get("prod", 0) - 1, 0)
        if production:
            print(f"npm audit: no known vulnerability in {production} runtime packages")
        else:
            print("npm audit: no runtime packages to audit (package.json has devDependencies only)")
    return status


if __name__ == "__main__":
    kind, *paths = sys.argv[1:]
    sys.exit(_pip(*paths) if kind == "pip" else _npm(*paths))
