"""Repositories and files on the Hugging Face Hub, named `hf:[TYPE/]ORG/NAME[@REVISION][/FILE]`.

The syntax is huggingface_hub's HF URI (`hf://...` is accepted too): TYPE is `datasets/` or
`spaces/` (models need none), REVISION a branch, tag or commit (default: the default branch,
`main`), FILE one file of the repository (without it: the whole repository, for a model or a
tokenizer). `hf:Qwen/Qwen2.5-7B-Instruct`, `hf:meta-llama/Llama-2-7b-hf@<commit>`,
`hf:datasets/GAIR/lima/train.jsonl`.

The workflow pins a location when it plans (`pin`: the commit its branch or tag points to,
asked of the Hub once, or read from the local Hub cache offline) and each job fetches exactly
that commit (`fetch`) into the Hub cache (HF_HOME / HF_HUB_CACHE) or finds it there
(HF_HUB_OFFLINE=1). A changed commit is a changed parameter, so Snakemake redoes what
depends on it. Gated and private repositories are read with HF_TOKEN, which huggingface_hub
takes from the environment itself: tuna never passes, writes or logs it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from tuna.errors import TunaError

if TYPE_CHECKING:
    from huggingface_hub.utils import HfUri

PREFIX = "hf:"
COMMIT = re.compile(r"[0-9a-f]{40}")
REPO_TYPES = ("model", "dataset", "space")
PROBE_TIMEOUT = 5  # seconds planning waits for the Hub before it plans from the cache
# Weights a transformers checkpoint never loads in torch (other frameworks, Meta's originals, GGUF
# copies); `*.bin` is fetched only from a repository without safetensors.
OTHER_WEIGHTS = ["*.msgpack", "*.h5", "*.ot", "*.onnx", "*.tflite", "*.pth", "*.gguf", "original/*", "onnx/*"]


def is_hub(location: str | Path) -> bool:
    return str(location).startswith(PREFIX)


def parse(location: str) -> HfUri:
    """The repository, revision and file a location names; a malformed one is a one-line error."""
    from huggingface_hub.errors import HfUriError
    from huggingface_hub.utils import parse_hf_uri

    try:
        uri = parse_hf_uri("hf://" + location.removeprefix(PREFIX).removeprefix("//"))
    except HfUriError as exc:
        raise TunaError(f"{location}: {exc.msg.strip()} (expected hf:[datasets/|spaces/]ORG/NAME[@REVISION][/FILE])"
                        ) from None
    if uri.type not in REPO_TYPES:
        raise TunaError(f"{location}: a {uri.type}, not a model, dataset or space repository")
    return uri


@cache
def _hub_reachable() -> bool:
    """One short request per process, so planning never hangs on a network that drops packets."""
    from huggingface_hub import constants
    from huggingface_hub.errors import HTTPError
    from huggingface_hub.utils import get_session

    if constants.is_offline_mode():
        return False
    try:
        get_session().head(constants.ENDPOINT, timeout=PROBE_TIMEOUT)
    except (HTTPError, OSError):  # no route, no name, a timeout, a proxy: the Hub is not there for us
        return False
    return True


@cache
def pin(location: str) -> str:
    """For planning: a Hub location with its revision replaced by the commit it points to now, as
    the Hub says (huggingface_hub then remembers it in the cache's refs/), or offline as the cache
    says; unchanged when neither knows (the job then names the problem). Other locations as given."""
    if not is_hub(location):
        return location
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HTTPError, RevisionResolutionError

    uri = parse(location)
    if COMMIT.fullmatch(uri.revision or ""):
        return location
    for local_only in ((False, True) if _hub_reachable() else (True,)):
        try:
            revision = HfApi().resolve_revision(uri.id, repo_type=uri.type, revision=uri.revision,
                                                local_files_only=local_only)
        except (HTTPError, RevisionResolutionError):  # the Hub said no, or went away: ask the cache
            continue
        return _at(uri, revision.resolved)
    return location


def _at(uri: HfUri, commit: str) -> str:
    """The `hf:` location of `uri` at `commit`."""
    return PREFIX + dataclasses.replace(uri, revision=commit).to_uri().removeprefix("hf://")


@dataclass(frozen=True)
class Fetched:
    """A Hub location on this machine: its path in the Hub cache and the commit it came from."""

    location: str
    path: Path
    commit: str

    @property
    def pinned(self) -> str:
        """The location at its commit: what to write down to get the same files again."""
        return _at(parse(self.location), self.commit)

    def provenance(self) -> dict:
        uri = parse(self.location)
        return {"repo": uri.id, "repo_type": uri.type, "revision": uri.revision or "main", "commit": self.commit,
                **({"file": uri.path_in_repo} if uri.path_in_repo else {})}


def fetch(location: str, allow: list[str] | None = None, ignore: list[str] | None = None) -> Fetched:
    """Download a Hub location into the Hub cache (or find it there): its file, or its repository's
    snapshot (only the files matching `allow` and not `ignore`). Failures are one line naming it."""
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download

    uri = parse(location)
    try:
        revision = HfApi().resolve_revision(uri.id, repo_type=uri.type, revision=uri.revision)
        if uri.path_in_repo:
            path = hf_hub_download(uri.id, uri.path_in_repo, repo_type=uri.type, revision=revision)
        else:
            path = snapshot_download(uri.id, repo_type=uri.type, revision=revision, allow_patterns=allow,
                                     ignore_patterns=ignore)
    except _hub_errors() as exc:
        raise TunaError(f"{location}: {why_not(exc, uri)}") from None
    return Fetched(location, Path(path), revision.resolved)


def fetch_model(location: str) -> Fetched:
    """A model repository's config, tokenizer and weights: its safetensors (PyTorch .bin only from a
    repository without them), never other frameworks' copies."""
    fetched = fetch(location, ignore=[*OTHER_WEIGHTS, "*.bin"])
    if fetched.path.is_dir() and not any(fetched.path.glob("*.safetensors")):
        fetched = fetch(location, ignore=OTHER_WEIGHTS)
    return fetched


def cached(location: str) -> Path | None:
    """The local copy of a Hub location if the Hub cache holds it, without asking the Hub (planning)."""
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RevisionResolutionError

    uri = parse(location)
    try:
        revision = HfApi().resolve_revision(uri.id, repo_type=uri.type, revision=uri.revision, local_files_only=True)
        if uri.path_in_repo:
            return Path(hf_hub_download(uri.id, uri.path_in_repo, repo_type=uri.type, revision=revision,
                                        local_files_only=True))
        return Path(snapshot_download(uri.id, repo_type=uri.type, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, RevisionResolutionError):
        return None


def _hub_errors() -> tuple[type[Exception], ...]:
    """What a fetch can meet: the Hub's answers and a network gone mid-way (HTTPError, the base of
    both), an empty cache offline."""
    from huggingface_hub import errors as hub

    return hub.HTTPError, hub.LocalEntryNotFoundError, hub.RevisionResolutionError, hub.OfflineModeIsEnabled


def download_command(uri: HfUri) -> str:
    """The `hf download` command that puts `uri` into the Hub cache."""
    return " ".join(["hf download", uri.id, *([uri.path_in_repo] if uri.path_in_repo else []),
                     *(["--repo-type", uri.type] if uri.type != "model" else []),
                     *(["--revision", uri.revision] if uri.revision else [])])


def why_not(exc: Exception, uri: HfUri) -> str:
    """What stopped a fetch, in one line."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hub

    page = f"{constants.ENDPOINT}/{'' if uri.type == 'model' else uri.type + 's/'}{uri.id}"
    if isinstance(exc, hub.GatedRepoError):
        return f"gated on the Hub: accept its conditions on {page} and set HF_TOKEN to a token of that account"
    if isinstance(exc, hub.RepositoryNotFoundError):
        return f"no {uri.type} repository {uri.id} on the Hub (a private one needs HF_TOKEN)"
    if isinstance(exc, hub.RevisionNotFoundError):
        return f"no revision '{uri.revision}' in {uri.id}"
    if isinstance(exc, hub.RemoteEntryNotFoundError):
        return f"no file '{uri.path_in_repo}' in {uri.id}"
    if isinstance(exc, (hub.LocalEntryNotFoundError, hub.RevisionResolutionError, hub.OfflineModeIsEnabled)):
        why = "HF_HUB_OFFLINE is set" if constants.is_offline_mode() else "the Hub cannot be reached"
        return (f"not in the Hub cache ({constants.HF_HUB_CACHE}) and {why}; fetch it where the Hub can be "
                f"reached, into the same HF_HOME: `{download_command(uri)}`")
    if isinstance(exc, hub.HfHubHTTPError):
        return f"the Hub answered {exc.response.status_code} for {uri.id}"
    return f"the connection to the Hub broke ({type(exc).__name__}); run again to resume the download"
