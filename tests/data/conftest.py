"""Shared helpers for the data tests: small in-memory sources and a tokenizer that loads in a blink."""

import pytest

from tui_transformer.data import get_tokenizer
from tui_transformer.data.local_source import DocumentGroup, LocalSource


def _memory_source(groups_of_texts, val_fraction=0.1):
    """A LocalSource over texts in memory; each inner list is one chunk. Ids are 'g<chunk>d<doc>'."""
    groups = []
    for g, texts in enumerate(groups_of_texts):
        docs = [(f"g{g}d{i}", t) for i, t in enumerate(texts)]
        groups.append(DocumentGroup(fingerprint=f"memory:{g}:" + "|".join(texts), label=f"group {g}",
                                    load=lambda docs=docs: docs))
    source = LocalSource(groups, val_fraction=val_fraction)
    source.name, source.description = "memory", "texts in memory"
    return source


@pytest.fixture(scope="session")
def cl100k():
    return get_tokenizer("cl100k_base")


@pytest.fixture()
def memory_source():
    """The factory ``memory_source(groups_of_texts, val_fraction=0.1)``."""
    return _memory_source


# -- a loopback server that stands in for the Hugging Face Hub ----------------------------------

import importlib  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402

from tests.data.fake_hub import FINEWEB, FakeHub, Repo, parquet_bytes  # noqa: E402

REPO = FINEWEB

_LETTERS = bytes((b"abcdefghijklmnopqrstuvwxyz" * 10 + b" " * 40)[:256])


def fineweb_rows(file_number, n_rows, seed=0):
    """Rows with FineWeb's schema; the text is random letters and spaces, so it barely compresses."""
    rng = random.Random(f"{seed}-{file_number}")
    rows = []
    for i in range(n_rows):
        text = rng.randbytes(rng.randint(20, 3000)).translate(_LETTERS).decode().strip() or "empty"
        rows.append({"text": text.capitalize() + ".", "id": f"<urn:uuid:{file_number:02d}-{i:06d}>",
                     "dump": "CC-MAIN-2024-10", "url": f"https://example.com/{file_number}/{i}", "date": "2024-03-01",
                     "file_path": "s3://commoncrawl/x.warc.gz", "language": "en", "language_score": 0.9,
                     "token_count": text.count(" ") + 1})
    return rows


fineweb_parquet = parquet_bytes


def reload_hub_settings():
    """Make huggingface_hub and datasets read HF_ENDPOINT, HF_HUB_OFFLINE, HF_HOME... again.

    Both libraries read these variables once, at import, into module constants, and derive more
    from them there (URL templates, cache folders, the origins a token may be forwarded to). A
    user's process sets them before it starts, so that is right for the program; but one test
    process imports the libraries once while each test points them at its own loopback server and
    tmp folders. Patching ``constants.ENDPOINT`` alone would leave the derived values stale, so we
    re-run the two settings modules in place (``importlib.reload`` keeps the module objects, so
    every ``constants.X`` / ``config.X`` read elsewhere sees the new values) and recompute the one
    value derived outside them. The alternative, a subprocess per test, costs seconds of imports
    each. A library not imported yet needs nothing: it reads the environment when it is imported.
    """
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants
        from huggingface_hub.utils import _http

        importlib.reload(constants)
        _http._HUB_ORIGINS = frozenset(_http._url_origin(e) for e in (
            constants._HF_DEFAULT_ENDPOINT, constants._HF_DEFAULT_STAGING_ENDPOINT, constants.ENDPOINT, "https://hf.co"))
    if "datasets" in sys.modules:
        import datasets.config

        importlib.reload(datasets.config)


@pytest.fixture(autouse=True)
def hub_settings(tmp_path):
    """Every data test: the libraries' caches in tmp folders (never ~/.cache), no token, online,
    HF_ENDPOINT as the root conftest set it (a closed port). Returns ``set(**variables)``, which
    changes variables (None deletes one) and has the libraries read them again. Afterwards the
    variables are restored and read again too, so no later test meets this test's settings."""
    patch = pytest.MonkeyPatch()  # our own, so that the libraries re-read the restored values below

    def set_variables(**variables):
        for name, value in variables.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, str(value))
        reload_hub_settings()

    set_variables(HF_HOME=tmp_path / "hf-home", HF_DATASETS_CACHE=tmp_path / "hf-datasets", HF_TOKEN=None,
                  HF_HUB_OFFLINE=None, HF_DATASETS_OFFLINE=None)
    yield set_variables
    patch.undo()
    reload_hub_settings()


@pytest.fixture(scope="session")
def fineweb_files():
    """Two FineWeb-like files: 4 and 3 row groups of 50 documents (row groups of ~80 KB, larger than
    the 64 KiB footer read, so that a row group really costs its own range request)."""
    return {
        "sample/10BT/000_00000.parquet": fineweb_parquet(fineweb_rows(0, 200), row_group_size=50),
        "sample/10BT/001_00000.parquet": fineweb_parquet(fineweb_rows(1, 150), row_group_size=50),
    }


@pytest.fixture()
def hub(fineweb_files, hub_settings):
    """A running FakeHub serving FineWeb, with HF_ENDPOINT pointing at it."""
    fake = FakeHub({FINEWEB: Repo(dict(fineweb_files))}).start()
    hub_settings(HF_ENDPOINT=fake.url)
    yield fake
    fake.stop()
