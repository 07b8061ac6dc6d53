"""Every process-global change Offboard makes to the Bot Framework SDK, in one place.

botbuilder 4.17.1 is the SDK's last release and msrest is no longer maintained, so two faults are
mended by replacing attributes of their classes for the whole process:

- msrest's ``ClientRetryPolicy.safe_codes``, a 502-item *list* its constructor tests 999 status
  codes against, becomes a frozenset: the policy is the same, built in microseconds instead of
  40-60 % of a busy bot's CPU (see :mod:`bot.adapter`);
- ``JwtTokenExtractor.get_open_id_metadata``, the SDK's one lookup of the Bot Framework's signing
  keys, returns :mod:`bot.signing_keys`' keys, which are fetched without blocking the event loop
  and fetched again when a token names a new key.

A patch is only right for the code it was written against. :func:`apply` therefore checks first
that the installed SDK is the version these were written for and that every attribute it replaces
is there, and refuses to start otherwise (:class:`SdkPatchError`): after an upgrade, a patch is
reviewed, not silently applied to code it no longer fits.

(The third patch of a library, ``requests.Response._content`` in
:class:`partner_center.auth.LoopbackRouter`, stays with the sandbox's token routing it serves, and
guards itself there: ``partner_center`` may not import the SDK.)
"""

from __future__ import annotations

from importlib import metadata

from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from msrest.universal_http.requests import ClientRetryPolicy

from .signing_keys import keys_for

__all__ = ("PATCHED_DISTRIBUTIONS", "SdkPatchError", "apply")

# The distributions whose code the patches below replace parts of, at the versions they were read in.
PATCHED_DISTRIBUTIONS = {"botbuilder-core": "4.17.1", "botframework-connector": "4.17.1", "msrest": "0.7.1"}


class SdkPatchError(RuntimeError):
    """The installed SDK is not the one Offboard's patches were written for."""


def apply() -> None:
    """Check the SDK, then make both patches (idempotent: a second call changes nothing).

    :raises SdkPatchError: another version of a patched distribution is installed, or an
        attribute to be replaced is missing.
    """
    _check_versions()
    _build_retry_policies_quickly()
    _read_signing_keys_from_bot()


def _check_versions() -> None:
    for distribution, expected in PATCHED_DISTRIBUTIONS.items():
        try:
            installed = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            installed = "none"
        if installed != expected:
            raise SdkPatchError(
                f"{distribution} {installed} is installed, but bot/_patches.py was written for {expected}: "
                "review each patch against the new code, then update PATCHED_DISTRIBUTIONS"
            )


def _require(owner: type, name: str) -> None:
    if name not in vars(owner):
        raise SdkPatchError(f"{owner.__module__}.{owner.__qualname__}.{name} is gone: bot/_patches.py must be reviewed")


def _build_retry_policies_quickly() -> None:
    _require(ClientRetryPolicy, "safe_codes")
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        # msrest declares a list and only ever tests membership: that is the point of the patch.
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def _read_signing_keys_from_bot() -> None:
    _require(JwtTokenExtractor, "get_open_id_metadata")
    JwtTokenExtractor.get_open_id_metadata = staticmethod(keys_for)
