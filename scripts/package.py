#!/usr/bin/env python3
"""Build the Teams app package to sideload: ``scripts/package.py --bot-id <Azure Bot app id>``.

Fills the placeholders of ``appPackage/manifest.json`` (``${{BOT_ID}}``, ``${{TEAMS_APP_ID}}``,
``${{PUBLISHER_NAME}}``, ``${{PUBLISHER_URL}}``) and zips the manifest, its two icons and its
French and Russian localization files flat, as Teams wants them, into
``build/offboard-teams-app.zip``. Only the standard library: it runs before any set-up.

The bot id is the Microsoft App ID of the Azure Bot resource (``--bot-id``, else ``MicrosoftAppId``
from the environment or ``.env``). The Teams app id defaults to a UUID derived from the bot id, so
that a rebuilt package updates the app already uploaded instead of adding a second one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "appPackage"
DEFAULT_OUT = ROOT / "build" / "offboard-teams-app.zip"
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_APP_ID_NAMESPACE = uuid.UUID("6f1c3f2e-5b7a-4c1e-9d2a-0ffb0a2d0000")  # fixed: same bot id → same app id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--bot-id", default=_setting("MicrosoftAppId"), help="the Azure Bot's Microsoft App ID (default: MicrosoftAppId)")
    parser.add_argument("--app-id", default=_setting("OFFBOARD_TEAMS_APP_ID"), help="the Teams app id (default: derived from the bot id)")
    parser.add_argument("--publisher-name", default=_setting("OFFBOARD_PUBLISHER_NAME") or "Offboard")
    parser.add_argument(
        "--publisher-url",
        default=_setting("OFFBOARD_PUBLISHER_URL") or "https://offboard.example.com",
        help="https; /privacy and /terms are appended for those links",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    if not args.bot_id or not _GUID.match(args.bot_id):
        parser.error("give the Azure Bot's Microsoft App ID (a GUID) with --bot-id, or set MicrosoftAppId")
    app_id = args.app_id or str(uuid.uuid5(_APP_ID_NAMESPACE, args.bot_id.lower()))
    if not _GUID.match(app_id):
        parser.error("--app-id must be a GUID")
    if not args.publisher_url.startswith("https://"):
        parser.error("--publisher-url must be an https URL (Teams refuses others)")

    values = {
        "BOT_ID": args.bot_id.lower(),
        "TEAMS_APP_ID": app_id.lower(),
        "PUBLISHER_NAME": args.publisher_name,
        "PUBLISHER_URL": args.publisher_url.rstrip("/"),
    }
    manifest = fill(json.loads((SOURCE / "manifest.json").read_text(encoding="utf-8")), values)
    files = [manifest["icons"]["color"], manifest["icons"]["outline"]]
    files += [language["file"] for language in manifest["localizationInfo"].get("additionalLanguages", [])]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in files:
            package.write(SOURCE / name, arcname=name)
    print(
        f"{args.out} (Teams app id {values['TEAMS_APP_ID']}, bot {values['BOT_ID']}): upload it in Teams, Apps, Manage your apps, Upload an app"
    )
    return 0


def fill(node: object, values: dict[str, str]) -> object:
    """``node`` with every ``${{NAME}}`` replaced; an unknown name is an error, not a silent blank."""
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value, values) for value in node]
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], node)
    return node


def _setting(name: str) -> str:
    """An environment variable, else a ``NAME=value`` line of ``.env`` (what the bot reads too)."""
    if os.environ.get(name):
        return os.environ[name]
    env_file = ROOT / ".env"
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == name:
                return value.strip().strip("\"'")
    return ""


if __name__ == "__main__":
    sys.exit(main())
