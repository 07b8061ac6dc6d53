"""The Teams app package: built by its one command, valid against Microsoft's own schemas.

The schemas are the ones npm ``@microsoft/app-manifest`` ships (the package the Teams and
Microsoft 365 Agents Toolkit validate with), installed by ``scripts/setup-node``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from dialogs.commands import parse_command

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
BOT_ID = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("package") / "offboard.zip"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package.py"), "--bot-id", BOT_ID, "--out", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return zipfile.ZipFile(out)


def _json(package: zipfile.ZipFile, name: str) -> dict:
    return json.loads(package.read(name).decode("utf-8"))


def _schema(version: str, name: str) -> dict:
    path = SCHEMAS / f"v{version}" / name
    assert path.is_file(), f"{path} missing: run scripts/setup-node"
    return json.loads(path.read_text(encoding="utf-8"))


def _validate(document: dict, schema: dict) -> None:
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors)


def test_the_package_holds_the_manifest_its_icons_and_localizations_flat(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "fr.json", "manifest.json", "outline.png", "ru.json"]


def test_the_manifest_is_valid_for_the_newest_released_schema(package: zipfile.ZipFile) -> None:
    manifest = _json(package, "manifest.json")
    released = sorted(
        (path.name[1:] for path in SCHEMAS.iterdir() if path.name[1:2].isdigit()),
        key=lambda version: tuple(int(part) for part in version.split(".")),
    )
    assert manifest["manifestVersion"] == released[-1]
    _validate(manifest, _schema(manifest["manifestVersion"], "MicrosoftTeams.schema.json"))
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["id"] != BOT_ID and "${{" not in json.dumps(manifest)


def test_a_rebuilt_package_keeps_its_teams_app_id(package: zipfile.ZipFile, tmp_path: Path) -> None:
    out = tmp_path / "again.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package.py"), "--bot-id", BOT_ID.upper(), "--out", str(out)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert _json(zipfile.ZipFile(out), "manifest.json")["id"] == _json(package, "manifest.json")["id"]


def test_the_build_refuses_a_missing_or_malformed_bot_id(tmp_path: Path) -> None:
    for argv in ([], ["--bot-id", "not-a-guid"]):
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "package.py"), *argv, "--out", str(tmp_path / "x.zip")],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 2 and "Microsoft App ID" in done.stderr
        assert not (tmp_path / "x.zip").exists()


def test_the_bot_offers_its_commands_in_personal_team_and_group_chat(package: zipfile.ZipFile) -> None:
    bot = _json(package, "manifest.json")["bots"][0]
    lists = {tuple(entry["scopes"]): [command["title"] for command in entry["commands"]] for entry in bot["commandLists"]}
    assert set(lists) == {("personal",), ("team",), ("groupChat",)} and set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert "notify here" in lists[("team",)] and "notify here" not in lists[("personal",)]
    for titles in lists.values():
        assert {"remove", "plan", "status", "cancel", "history", "help"} <= set(titles)
        for title in titles:  # what Teams puts in the compose box is a command the bot understands
            assert parse_command(f"{title} Contoso").name == title.split()[0]


@pytest.mark.parametrize("language", ["fr", "ru"])
def test_the_localization_files_are_valid_and_translate_every_command(package: zipfile.ZipFile, language: str) -> None:
    manifest = _json(package, "manifest.json")
    declared = {entry["languageTag"]: entry["file"] for entry in manifest["localizationInfo"]["additionalLanguages"]}
    localized = _json(package, declared[language])
    _validate(localized, _schema(manifest["manifestVersion"], "MicrosoftTeams.Localization.schema.json"))
    for i, entry in enumerate(manifest["bots"][0]["commandLists"]):
        for j, command in enumerate(entry["commands"]):
            title = localized[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert localized[f"bots[0].commandLists[{i}].commands[{j}].description"]
            assert title != command["title"] or title == "plan"  # "plan" is French too
            # the localized command, typed or picked from the menu, is the same command to the bot
            expected = parse_command(f"{command['title']} Contoso").name
            assert parse_command(f"{title} Contoso").name == expected, (language, title)


def test_the_icons_are_the_sizes_teams_requires_and_the_outline_is_white_on_transparent(package: zipfile.ZipFile) -> None:
    with package.open("color.png") as file:
        color = Image.open(file)
        color.load()
    with package.open("outline.png") as file:
        outline = Image.open(file)
        outline.load()
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    pixels = set(outline.get_flattened_data() if hasattr(outline, "get_flattened_data") else outline.getdata())
    assert all(alpha == 0 or (red, green, blue) == (255, 255, 255) for red, green, blue, alpha in pixels)
    assert any(alpha == 0 for *_, alpha in pixels) and any(alpha == 255 for *_, alpha in pixels)


def test_the_schema_check_catches_what_teams_would_refuse(package: zipfile.ZipFile) -> None:
    manifest = _json(package, "manifest.json")
    schema = _schema(manifest["manifestVersion"], "MicrosoftTeams.schema.json")
    for broken in (
        {key: value for key, value in manifest.items() if key != "accentColor"},
        {**manifest, "bots": [{**manifest["bots"][0], "botId": "not-a-guid"}]},
        {**manifest, "name": {"short": "Offboard removes CSP reseller relationships"}},  # over 30 characters
    ):
        with pytest.raises(AssertionError):
            _validate(broken, schema)
