"""The Hugging Face Hub as ``huggingface_hub`` sees it: endpoint, offline mode, listings, errors.

Every setting is the library's own, read the way it reads them: ``HF_ENDPOINT`` (a mirror, or our
tests' loopback server), ``HF_HUB_OFFLINE`` and ``HF_HOME`` are read once, when
``huggingface_hub`` is imported; the token (``HF_TOKEN``, else the one ``hf auth login`` saved)
is looked up at each request. So a run, the dashboard and ``datasets`` all agree on where the Hub
is and whether it may be reached.

The library's errors are exceptions with long, multi-line messages; :func:`user_error` turns each
kind into the one line a user of this program needs (what is wrong and what to do).
"""

from __future__ import annotations

from tui_transformer.errors import UserError

REPO_TYPE = "dataset"


def endpoint() -> str:
    """The Hub's base URL, as huggingface_hub uses it."""
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` forbids every request (huggingface_hub's reading of it)."""
    from huggingface_hub import constants

    return constants.is_offline_mode()


def api():
    """An :class:`huggingface_hub.HfApi` for this endpoint, naming this program in its user agent."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint(), library_name="tui-transformer")


def file_url(repo_id: str, path: str, revision: str) -> str:
    """The ``resolve`` URL of a file: the Hub answers it with a redirect to its storage."""
    from huggingface_hub import hf_hub_url

    return hf_hub_url(repo_id, path, repo_type=REPO_TYPE, revision=revision, endpoint=endpoint())


def commit_of(repo_id: str, timeout: float | None = None) -> str:
    """The commit that ``main`` points to now: every file of one run is read at that commit."""
    try:
        return api().dataset_info(repo_id, timeout=timeout).sha
    except Exception as error:
        raise user_error(error, repo_id) from None


def list_files(repo_id: str, folder: str, revision: str, suffix: str = ".parquet") -> list[dict]:
    """``[{"path", "size"}]`` of the files under ``folder`` that end in ``suffix``, in name order.

    ``HfApi.list_repo_tree`` follows the listing's pagination and retries a busy Hub itself.
    """
    from huggingface_hub.hf_api import RepoFile

    try:
        entries = api().list_repo_tree(repo_id, path_in_repo=folder or None, recursive=True,
                                       repo_type=REPO_TYPE, revision=revision)
        files = [{"path": e.path, "size": int(e.size)} for e in entries
                 if isinstance(e, RepoFile) and e.path.endswith(suffix)]
    except Exception as error:
        raise user_error(error, repo_id) from None
    if not files:
        raise UserError(f"the Hub lists no {suffix} files under {folder or '/'} of {repo_id} ({endpoint()})")
    return sorted(files, key=lambda f: f["path"])


def user_error(error: BaseException, repo_id: str, where: str | None = None) -> UserError:
    """One line for a failure of huggingface_hub (or of datasets, which raises the same kinds).

    ``where`` names the place in the message (default: the repository and the endpoint).
    """
    from huggingface_hub import errors

    if isinstance(error, UserError):
        return error
    where = where or f"{repo_id} on {endpoint()}"
    if isinstance(error, errors.GatedRepoError):
        return UserError(f"{where} is gated: accept its terms on the Hub, then set HF_TOKEN "
                         "(or run `hf auth login`)")
    if isinstance(error, errors.RepositoryNotFoundError):
        return UserError(f"no dataset {where} (check the name; a private one needs HF_TOKEN)")
    if isinstance(error, errors.RevisionNotFoundError):
        return UserError(f"{where} has no such revision")
    if isinstance(error, errors.EntryNotFoundError):
        return UserError(f"{where}: {first_line(error)}")
    if isinstance(error, errors.OfflineModeIsEnabled):
        return UserError(f"{where} is not cached and HF_HUB_OFFLINE is set: run once without it first")
    if isinstance(error, errors.HfHubHTTPError):
        return UserError(f"{where} answered: {first_line(error)}")
    return UserError(f"could not reach {where}: {type(error).__name__}: {first_line(error)}")


def first_line(error: BaseException) -> str:
    """The first line of an error's message (the library's messages go on for several)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
