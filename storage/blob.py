"""``BlobStore``: the contract in an Azure Blob Storage container (``azure.storage.blob.aio``).

Blobs hold plain JSON (never pickle: whoever can write to the container must not be able to make the
bot build arbitrary objects, as botbuilder-azure's jsonpickle storage allows). The container::

    documents/{key}                         a document; the blob's ETag is the document's ETag
    streams/{stream}/{number:012d}.json     one record of a stream, created once, never changed
    counters/{stream}.json                  {"last": n}: a hint, how far the stream is known to go

Keys and stream names are percent-encoded into names (see ``_blob_names``).

Conditional writes are the service's own: ``If-Match: <etag>`` for ``if_match`` and
``If-None-Match: *`` for ``if_none_match``; a failed condition comes back as HTTP 412
(ConditionNotMet) or 409 (BlobAlreadyExists) and is raised as ``PreconditionFailed``.

Appends claim their number by *creating* the record blob with ``If-None-Match: *``: the service lets
exactly one writer create ``…/000000000007.json``, and the others move on to 8. A writer starts
from the counter blob and tries number 8 only once 7 exists, so records appear in order with no gap
(a reader never sees 8 before 7), even if a writer dies half-way. The counter is moved forward
afterwards with ETag retries; when it lags (a writer died before moving it) the next append only
probes a little further. Under heavy contention every writer probes every number (50 simultaneous
appends take a few seconds on Azurite); the audit trail of one case sees little contention.

Like any client of an HTTP service, an append whose response is lost may be retried by the SDK:
if the first try had in fact created the record, the retry sees 409 and the record is stored
again under the next number (a duplicate record, never a gap or a shared number).

Two ways in: a connection string (Azurite locally; a key), or the account's URL with an Azure AD
token credential (``BlobStore.with_identity``: the managed identity in Azure, no key anywhere). The
deployment (infra/main.bicep) gives the identity **Storage Blob Data Contributor** on each
container and creates the containers itself, so the store's own attempt to create its container
may be refused with 403 (AuthorizationPermissionMismatch): that is expected and not an error, as
long as the container is there (https://learn.microsoft.com/azure/storage/blobs/assign-azure-role-data-access).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar, final
from urllib.parse import urlsplit

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from . import _blob_names as names
from ._codec import check_conditions, check_key, check_prefix, dumps, loads
from .base import PreconditionFailed, Stored

__all__ = ("DATA_ROLE", "BlobAccessDenied", "BlobStore")

# Azure's built-in data-plane role for reading, writing and deleting blobs
# (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-contributor).
DATA_ROLE = "Storage Blob Data Contributor"
_ROLE_GUIDE = "https://learn.microsoft.com/azure/storage/blobs/assign-azure-role-data-access"
# What Azure Storage answers (403) when the identity is authenticated but its role does not allow
# the operation: with the role on the container, creating a container is not allowed
# (https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes).
_NOT_ALLOWED = frozenset({"AuthorizationPermissionMismatch", "AuthorizationFailure"})
_FORBIDDEN = 403

_T = TypeVar("_T")

_DOCUMENTS = "documents/"
_STREAMS = "streams/"
_COUNTERS = "counters/"
_RECORD_SUFFIX = ".json"
_JSON = ContentSettings(content_type="application/json; charset=utf-8")
_CONDITION_FAILED = 412
_CONFLICT = 409


class BlobAccessDenied(PermissionError):
    """Azure Storage refused the store's identity, or its container is missing and may not be
    created; the message names the account, the container and what to grant."""


@final
class BlobStore:
    """A ``DocumentStore`` in one Azure Blob Storage container, created on first use if missing.

    Example::

        store = BlobStore(settings.storage_connection_string, "offboard")
        try:
            stored = await store.read("cases/42")
        finally:
            await store.close()

    Through a managed identity (no key)::

        store = BlobStore.with_identity("https://offboard.blob.core.windows.net", DefaultAzureCredential(), "cases")

    :param connection_string: an Azure Storage connection string (Azurite's development one works).
    :param container: the container's name (3-63 lowercase letters, digits and hyphens).
    :param max_concurrency: how many blobs ``read_many`` and ``read_stream`` download at once.
    :param ca_file: a CA bundle to verify the service's certificate with instead of the system's
        (tests against a local emulator serving TLS).
    """

    def __init__(self, connection_string: str, container: str, *, max_concurrency: int = 16, ca_file: Path | str | None = None) -> None:
        options: dict[str, Any] = {} if ca_file is None else {"connection_verify": str(ca_file)}
        self._init(ContainerClient.from_connection_string(connection_string, container, **options), max_concurrency, None)

    @classmethod
    def with_identity(
        cls,
        account_url: str,
        credential: AsyncTokenCredential,
        container: str,
        *,
        max_concurrency: int = 16,
        ca_file: Path | str | None = None,
        owns_credential: bool = True,
    ) -> BlobStore:
        """A store reached with an Azure AD token (``https://storage.azure.com/.default``), no key.

        :param account_url: ``https://<account>.blob.core.windows.net`` (https: the SDK sends
            bearer tokens over TLS only).
        :param credential: gives the tokens (``azure.identity.aio.DefaultAzureCredential`` in Azure);
            closed by :meth:`close` when ``owns_credential``.
        :param ca_file: as for the constructor.
        """
        if urlsplit(account_url).scheme != "https":
            raise ValueError(f"the storage account URL must be https (got {account_url!r})")
        options: dict[str, Any] = {} if ca_file is None else {"connection_verify": str(ca_file)}
        store = cls.__new__(cls)
        store._init(
            ContainerClient(account_url, container, credential=credential, **options),
            max_concurrency,
            credential if owns_credential else None,
        )
        return store

    def _init(self, container: ContainerClient, max_concurrency: int, owned_credential: AsyncTokenCredential | None) -> None:
        self._container = container
        self._owned_credential = owned_credential
        self._max_concurrency = max_concurrency
        self._container_ready = False
        self._container_lock = asyncio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"BlobStore(container={self._container.container_name!r}, url={self._container.url!r})"

    # ---- Documents ----

    async def read(self, key: str) -> Stored | None:
        check_key(key)
        await self._ready()
        return await self._read_blob(_document_name(key))

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        wanted = list(dict.fromkeys(check_key(key) for key in keys))
        await self._ready()
        found = await self._gather(functools.partial(self._read_blob, _document_name(key)) for key in wanted)
        return {key: stored for key, stored in zip(wanted, found, strict=True) if stored is not None}

    async def etag(self, key: str) -> str | None:
        check_key(key)
        await self._ready()
        try:  # a HEAD: the properties, not the (possibly large) content
            properties = await self._container.get_blob_client(_document_name(key)).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return str(properties.etag)

    async def write(
        self,
        key: str,
        document: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        check_key(key)
        check_conditions(if_match, if_none_match)
        text = dumps(document)
        part = names.name_part(key)
        conditions: dict[str, Any] = {}
        if if_match is not None:
            conditions = {"etag": if_match, "match_condition": MatchConditions.IfNotModified}
        elif if_none_match:
            conditions = {"match_condition": MatchConditions.IfMissing}
        await self._ready()
        try:
            result = await self._container.get_blob_client(_DOCUMENTS + part).upload_blob(
                text.encode("utf-8"),
                overwrite=True,
                content_settings=_JSON,
                metadata=names.key_metadata(key) if names.is_hashed(part) else None,
                **conditions,
            )
        except HttpResponseError as error:
            if _condition_failed(error) or _error_code(error) == "BlobNotFound":  # If-Match on a missing blob
                raise PreconditionFailed(f"{key!r}: {_describe(error)}") from None
            raise
        return str(result["etag"])

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        check_key(key)
        check_conditions(if_match, False)
        name = _document_name(key)
        conditions: dict[str, Any] = {}
        if if_match is not None:
            conditions = {"etag": if_match, "match_condition": MatchConditions.IfNotModified}
        await self._ready()
        try:
            await self._container.delete_blob(name, **conditions)
        except ResourceNotFoundError:
            return
        except HttpResponseError as error:
            if not _condition_failed(error):
                raise
            # If-Match also fails on a blob that is gone; the contract calls deleting a missing key fine.
            if await self._container.get_blob_client(name).exists():
                raise PreconditionFailed(f"{key!r}: {_describe(error)}") from None

    async def list_keys(self, prefix: str) -> list[str]:
        prefix = check_prefix(prefix)
        await self._ready()
        keys: list[str] = []
        listing = self._container.list_blobs(name_starts_with=_DOCUMENTS + names.listing_prefix(prefix), include=["metadata"])
        async for blob in listing:
            part = blob.name[len(_DOCUMENTS) :]
            key = names.key_from_metadata(blob.metadata or {}) if names.is_hashed(part) else names.decode(part)
            if key is not None and key.startswith(prefix):
                keys.append(key)
        return sorted(keys)

    # ---- Streams ----

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        check_key(stream, what="stream name")
        data = dumps(record, what="record").encode("utf-8")
        folder = _stream_folder(stream)
        counter = _COUNTERS + names.name_part(stream) + ".json"
        await self._ready()
        last, counter_etag = await self._read_counter(counter)
        number = last + 1
        while True:
            try:
                await self._container.upload_blob(_record_name(folder, number), data, overwrite=False, content_settings=_JSON)
                break
            except HttpResponseError as error:
                if not _condition_failed(error):
                    raise
                number += 1  # another writer took this number: it exists, so the next one is free to try
        await self._advance_counter(counter, number, last, counter_etag)
        return number

    async def append_linked(self, stream: str, link: Callable[[tuple[int, dict[str, Any]] | None], dict[str, Any]]) -> int:
        check_key(stream, what="stream name")
        folder = _stream_folder(stream)
        counter = _COUNTERS + names.name_part(stream) + ".json"
        await self._ready()
        hint, counter_etag = await self._read_counter(counter)
        last = await self._last_record(folder, hint)
        while True:
            number = 1 if last is None else last[0] + 1
            data = dumps(link(last), what="record").encode("utf-8")
            try:
                await self._container.upload_blob(_record_name(folder, number), data, overwrite=False, content_settings=_JSON)
                break
            except HttpResponseError as error:
                if not _condition_failed(error):
                    raise
                # Another writer created this number: link to its record (or a later one) instead.
                last = await self._last_record(folder, number)
        await self._advance_counter(counter, number, hint, counter_etag)
        return number

    async def _last_record(self, folder: str, known: int) -> tuple[int, dict[str, Any]] | None:
        """The stream's last record, found from ``known`` (a number that exists, or 0).

        Records are created in order (n only once n-1 exists), so walking forward from a record
        that exists to the first number that does not finds the end: a few reads, no listing.
        The listing is the fallback when ``known`` is not there (no counter yet, or a record
        deleted by hand).
        """
        last = await self._record_at(folder, known) if known > 0 else None
        if last is None:
            numbers = [int(stem) for stem in await self._record_stems(folder)]
            last = await self._record_at(folder, max(numbers)) if numbers else None
        while last is not None:
            following = await self._record_at(folder, last[0] + 1)
            if following is None:
                break
            last = following
        return last

    async def _record_at(self, folder: str, number: int) -> tuple[int, dict[str, Any]] | None:
        try:
            data, _ = await self._download(_record_name(folder, number))
        except ResourceNotFoundError:
            return None
        return number, loads(data)

    async def _record_stems(self, folder: str) -> list[str]:
        stems = []
        async for name in self._container.list_blob_names(name_starts_with=folder):
            stem = name[len(folder) :].removesuffix(_RECORD_SUFFIX)
            if stem.isdigit():
                stems.append(stem)
        return stems

    async def read_stream(self, stream: str, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        check_key(stream, what="stream name")
        folder = _stream_folder(stream)
        await self._ready()
        numbers: list[int] = []
        async for name in self._container.list_blob_names(name_starts_with=folder):
            stem = name[len(folder) :].removesuffix(_RECORD_SUFFIX)
            if stem.isdigit() and int(stem) > after:
                numbers.append(int(stem))
        numbers.sort()
        records = await self._gather(functools.partial(self._download, _record_name(folder, number)) for number in numbers)
        return [(number, loads(data)) for number, (data, _) in zip(numbers, records, strict=True)]

    # ---- Lifecycle ----

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._container.close()
            if self._owned_credential is not None:
                await self._owned_credential.close()

    async def _ready(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self._container_ready:
            return
        async with self._container_lock:
            if not self._container_ready:
                await self._create_container()
                self._container_ready = True

    async def _create_container(self) -> None:
        """Create the container unless it exists, or make sure it exists where creating is not allowed."""
        try:
            await self._container.create_container()
        except ResourceExistsError:
            return
        except HttpResponseError as error:
            if error.status_code != _FORBIDDEN or _error_code(error) not in _NOT_ALLOWED:
                self._raise_explained(error)
        else:
            return
        # Authenticated, but the role (on the container, infra/main.bicep) does not allow creating
        # containers: the deployment creates them. Whether this one is there and usable:
        try:
            await self._container.get_container_properties()
        except ResourceNotFoundError:
            raise BlobAccessDenied(
                f"{self._where()} does not exist and this identity may not create it: create the container "
                f"(the deployment does, infra/main.bicep) and grant the identity {DATA_ROLE!r} on it ({_ROLE_GUIDE})"
            ) from None
        except HttpResponseError as error:
            self._raise_explained(error)

    def _where(self) -> str:
        return f"Blob container {self._container.container_name!r} at {self._container.primary_endpoint.rsplit('/', 1)[0]}"

    def _raise_explained(self, error: HttpResponseError) -> NoReturn:
        explained = self._explain(error)
        if explained is None:
            raise error
        raise explained from error

    def _explain(self, error: HttpResponseError) -> BlobAccessDenied | None:
        """A refusal as an operator can act on it: which account and container, and what to grant
        (None: not a refusal)."""
        if error.status_code is None:  # no answer to explain: no token could be had at all
            detail = str(error.message).splitlines()[0] if error.message else type(error).__name__
        else:
            detail = _describe(error)
            extra = getattr(error, "additional_info", None) or {}
            if extra.get("authenticationerrordetail"):
                detail += f": {extra['authenticationerrordetail']}"
        if isinstance(error, ClientAuthenticationError) or error.status_code == 401:
            # The token (or key) itself was refused, or none could be had: wrong audience, expired, another tenant.
            return BlobAccessDenied(
                f"{self._where()} refused the credential ({detail}): a managed identity's token must be for Azure Storage "
                "(https://storage.azure.com/) in the storage account's tenant (check AZURE_CLIENT_ID and the account URL); "
                "a connection string's key must be the account's current one"
            )
        if error.status_code == _FORBIDDEN:
            return BlobAccessDenied(
                f"{self._where()}: access denied ({detail}); make sure the container exists (the deployment creates it, "
                f"infra/main.bicep) and grant the identity (the managed identity named by AZURE_CLIENT_ID, or your own "
                f"sign-in locally) {DATA_ROLE!r} on it ({_ROLE_GUIDE})"
            )
        return None

    # ---- Helpers ----

    async def _read_blob(self, name: str) -> Stored | None:
        try:
            data, etag = await self._download(name)
        except ResourceNotFoundError:
            return None
        return Stored(loads(data), etag)

    async def _download(self, name: str) -> tuple[bytes, str]:
        downloader = await self._container.download_blob(name)
        data = await downloader.readall()
        return data, str(downloader.properties.etag)

    async def _read_counter(self, name: str) -> tuple[int, str | None]:
        try:
            data, etag = await self._download(name)
        except ResourceNotFoundError:
            return 0, None
        return int(loads(data)["last"]), etag

    async def _advance_counter(self, name: str, number: int, last: int, etag: str | None) -> None:
        """Move the counter up to ``number`` unless another writer already moved it further.

        Each failed condition means another writer moved the counter up: the loop ends.
        """
        while last < number:
            conditions: dict[str, Any] = (
                {"match_condition": MatchConditions.IfMissing}
                if etag is None
                else {"etag": etag, "match_condition": MatchConditions.IfNotModified}
            )
            try:
                await self._container.upload_blob(
                    name, dumps({"last": number}).encode("utf-8"), overwrite=True, content_settings=_JSON, **conditions
                )
                return
            except HttpResponseError as error:
                if not _condition_failed(error):
                    raise
            last, etag = await self._read_counter(name)

    async def _gather(self, jobs: Iterable[Callable[[], Awaitable[_T]]]) -> list[_T]:
        """Run the jobs, at most ``max_concurrency`` at once; the first failure cancels the rest."""
        limit = asyncio.Semaphore(self._max_concurrency)

        async def limited(job: Callable[[], Awaitable[_T]]) -> _T:
            async with limit:
                return await job()

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(limited(job)) for job in jobs]
        return [task.result() for task in tasks]


def _document_name(key: str) -> str:
    return _DOCUMENTS + names.name_part(key)


def _stream_folder(stream: str) -> str:
    return _STREAMS + names.name_part(stream) + "/"


def _record_name(folder: str, number: int) -> str:
    return f"{folder}{number:012d}{_RECORD_SUFFIX}"


def _error_code(error: HttpResponseError) -> str | None:
    """Azure Storage's error code (``x-ms-error-code``): azure-storage-blob sets ``error_code`` on
    the errors it raises (a StorageErrorCode, which is a str enum, or a str); azure-core's class
    does not declare it."""
    code: object = getattr(error, "error_code", None)
    return None if code is None else str(getattr(code, "value", code))


def _describe(error: HttpResponseError) -> str:
    return f"HTTP {error.status_code} {_error_code(error)}"


def _condition_failed(error: HttpResponseError) -> bool:
    """412 ConditionNotMet (If-Match / If-None-Match), or 409 BlobAlreadyExists (If-None-Match: *)."""
    status: int | None = error.status_code
    return status == _CONDITION_FAILED or (status == _CONFLICT and _error_code(error) == "BlobAlreadyExists")
