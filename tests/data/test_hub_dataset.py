"""``--data hf:...``: any dataset with a text column, streamed by the real ``datasets`` client from a
loopback Hub (tests/data/fake_hub.py), cached as shards, then read offline."""

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.data.fake_hub import FakeHub, Repo, parquet_bytes
from tests.sentences import OBJECTS, SUBJECTS, VERBS
from tui_transformer.data import BatchLoader, open_source
from tui_transformer.data import hub_dataset
from tui_transformer.errors import UserError


def stories(n, seed=0, column="story"):
    rng = random.Random(seed)
    return [{column: " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
                              for _ in range(rng.randint(3, 12))), "n": i} for i in range(n)]


TRAIN, VALIDATION = stories(240, 0), stories(40, 1)
WEB = stories(200, 2, column="text")


@pytest.fixture()
def datasets_hub(hub_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path / "cache"))  # each test starts with nothing cached
    fake = FakeHub({
        "tiny/stories": Repo({"data/train-00000-of-00001.parquet": parquet_bytes(TRAIN, 100),
                              "data/validation-00000-of-00001.parquet": parquet_bytes(VALIDATION, 100)}),
        "plain/web": Repo({"data/train-00000-of-00001.parquet": parquet_bytes(WEB, 100)}),
        "odd/columns": Repo({"data/train-00000-of-00001.parquet": parquet_bytes(stories(30, 3, column="body"), 100)}),
        "locked/stories": Repo({"data/train-00000-of-00001.parquet": parquet_bytes(TRAIN, 100)}, gated=True),
    }).start()
    hub_settings(HF_ENDPOINT=fake.url)
    yield fake
    fake.stop()


def cached_texts(source, stream_split):
    """Every text the source's shards hold for ``stream_split`` ("train" or "val"), in order."""
    texts, index = [], 0
    stream = source.stream_of(stream_split)
    while (entry := source.ensure_shard(index, stream=stream)) is not None:
        texts += source.cache.read_texts(entry["name"], stream_split, source.val_fraction)
        index += 1
    return texts


@pytest.mark.slow  # trains in-process
def test_a_dataset_with_a_validation_split_trains_on_train_and_validates_on_it(datasets_hub, monkeypatch):
    monkeypatch.setattr(hub_dataset, "SHARD_DOCUMENTS", 100)  # 240 train documents: three shards
    source = open_source("hf:tiny/stories")
    assert source.layout["text_column"] == "story" and source.streams == ("train", "val")
    assert "the dataset's own 'validation' split" in source.notice
    assert cached_texts(source, "train") == [r["story"] for r in TRAIN]
    assert cached_texts(source, "val") == [r["story"] for r in VALIDATION]
    assert source.cache.read_metadata()["remote"]["ends"] == {"train": 3, "val": 1}
    names = sorted(s["name"] for s in source.status()["shards"])
    assert names == ["shard_00000.parquet", "shard_00001.parquet", "shard_00002.parquet", "shard_val_00000.parquet"]
    assert any("/cdn/" in path for path, _, _ in datasets_hub.requests), "rows came through the Hub's redirect"


def test_without_a_validation_split_the_hash_split_holds_documents_out(datasets_hub):
    source = open_source("hf:plain/web", val_fraction=0.2)
    assert source.streams == ("all",) and "hash split of 'train' (20% held out)" in source.notice
    train, val = cached_texts(source, "train"), cached_texts(source, "val")
    assert sorted(train + val) == sorted(r["text"] for r in WEB)
    assert 20 <= len(val) <= 60 and not set(train) & set(val)


def test_a_second_run_and_an_offline_run_need_no_network(datasets_hub, hub_settings, cl100k):
    first = BatchLoader(open_source("hf:tiny/stories"), cl100k, batch_size=2, seq_len=32)
    expected = first.next_batch()
    first.close()
    hub_settings(HF_HUB_OFFLINE="1")
    datasets_hub.requests.clear()
    offline = open_source("hf:tiny/stories")
    again = BatchLoader(offline, cl100k, batch_size=2, seq_len=32)
    got = again.next_batch()
    again.close()
    offline.close()
    assert datasets_hub.requests == []
    assert all((a == b).all() for a, b in zip(expected, got, strict=True))


def test_the_text_column_can_be_named(datasets_hub):
    source = open_source("hf:odd/columns", text_column="body")
    assert source.layout["text_column"] == "body" and len(cached_texts(source, "train")) > 0


@pytest.mark.parametrize("spec, kwargs, says", [
    ("hf:nobody/nothing", {}, "no dataset nobody/nothing on http://127.0.0.1:"),
    ("hf:odd/columns", {}, "has no text column (text, content, story); its columns: body, n: name one with --text-column"),
    ("hf:odd/columns", {"text_column": "words"}, "has no column 'words' (its columns: body, n)"),
    ("hf:locked/stories", {}, "is gated: accept its terms on the Hub, then set HF_TOKEN"),
    ("hf:not a name", {}, "hf: wants OWNER/NAME[:CONFIG]"),
])
def test_bad_input_is_one_line_and_nothing_is_cached(datasets_hub, spec, kwargs, says):
    def cached():
        return sorted(hub_dataset.paths.cache_dir().glob("hf/**/*.parquet")) + \
            sorted(hub_dataset.paths.cache_dir().glob("hf/**/cache_metadata.json"))

    before = cached()
    with pytest.raises(UserError) as caught:
        open_source(spec, **kwargs)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert cached() == before, "a failed open left something in the cache"


def test_offline_with_nothing_cached_is_one_line(datasets_hub, hub_settings):
    hub_settings(HF_HUB_OFFLINE="1")
    with pytest.raises(UserError, match=r"^hf:plain/web is not cached and HF_HUB_OFFLINE is set"):
        open_source("hf:plain/web")
    assert datasets_hub.requests == []


def test_a_gated_dataset_reads_with_a_token(datasets_hub, hub_settings):
    hub_settings(HF_TOKEN="hf_secret")
    source = open_source("hf:locked/stories")
    assert len(cached_texts(source, "train") + cached_texts(source, "val")) == len(TRAIN)
    assert {auth for path, _, auth in datasets_hub.requests if "/resolve/" in path} == {"Bearer hf_secret"}
    assert {auth for path, _, auth in datasets_hub.requests if path.startswith("/cdn/")} == {None}


def test_a_local_folder_saved_with_save_to_disk_or_of_parquet_files(tmp_path):
    import datasets

    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(TRAIN),
                          "validation": datasets.Dataset.from_list(VALIDATION)}).save_to_disk(str(saved))
    source = open_source(f"hf:{saved}")
    assert source.streams == ("train", "val")
    assert cached_texts(source, "val") == [r["story"] for r in VALIDATION]

    folder = tmp_path / "parquet" / "data"
    folder.mkdir(parents=True)
    pq.write_table(__import__("pyarrow").Table.from_pylist(WEB), folder / "train-00000.parquet")
    source = open_source(f"hf:{folder.parent}")
    assert source.streams == ("all",)
    assert sorted(cached_texts(source, "train") + cached_texts(source, "val")) == sorted(r["text"] for r in WEB)


@pytest.mark.slow  # about 17 s here with the suite's imports warm, 38 s alone (importing datasets, training a BPE)
def test_training_a_few_steps_on_a_hub_dataset(datasets_hub, tmp_path):
    from tui_transformer.model.config import ModelConfig
    from tui_transformer.train import TrainConfig, run_training

    events = []
    config = TrainConfig(
        preset="tiny", data="hf:tiny/stories", tokenizer="bpe-300", device="cpu", seed=3,
        model=ModelConfig(vocab_size=300, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16,
                          dropout=0.0, attention="explicit"),
        batch_size=4, accumulation_steps=1, lr=3e-3, max_steps=6, eval_interval=3, eval_batches=2,
        sample_interval=1000, sample_tokens=8, checkpoint_interval=1000, run_dir=str(tmp_path / "runs"))
    summary = run_training(config, on_event=events.append)
    assert summary.step == 6
    started = next(e for e in events if type(e).__name__ == "RunStarted")
    assert "the dataset's own 'validation' split" in started.data_notice
    assert any(type(e).__name__ == "EvalResult" for e in events)
    recorded = TrainConfig.from_dict(started.config)  # what was found is in the run's config, not only its log
    assert recorded.text_column == "story" and "the dataset's own 'validation' split" in recorded.val_split
    assert "val_split" in (Path(summary.run_dir) / "config.toml").read_text()


def test_the_trainer_hands_the_named_text_column_to_the_source(datasets_hub, tmp_path):
    from tui_transformer.train import TrainConfig, run_training

    config = TrainConfig(data="hf:odd/columns", text_column="words", tokenizer="bpe-300", device="cpu",
                         run_dir=str(tmp_path / "runs"))
    with pytest.raises(UserError, match="has no column 'words'"):
        run_training(config)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir()), "nothing left behind"


def test_the_train_cli_takes_a_text_column_for_hf_data_only(capsys):
    from tui_transformer.cli import main
    from tui_transformer.train import TrainConfig

    assert main(["train", "--no-ui", "--data", "builtin", "--text-column", "body", "--max-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "text_column applies to hf: datasets only" in err and "Traceback" not in err
    config = TrainConfig(data="hf:odd/columns", text_column="body")
    assert TrainConfig.from_dict(config.to_dict()).text_column == "body"


@pytest.mark.slow  # boots the dashboard's data form
async def test_the_dashboard_data_field_takes_hf_values():
    from textual.widgets import Input, Select, Static

    from tests.tui.helpers import make_app

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#data", Select).value = "path"
        screen.query_one("#data-path", Input).value = "hf:not a name"
        await pilot.pause()
        assert "hf: wants OWNER/NAME[:CONFIG]" in str(screen.query_one("#data-path-error", Static).render())
        screen.query_one("#data-path", Input).value = "hf:roneneldan/TinyStories"
        await pilot.pause()
        config, _ = screen.build_config()  # checked offline: nothing was fetched
        assert config.data == "hf:roneneldan/TinyStories"


def test_the_data_panel_lists_a_hub_datasets_shards(datasets_hub, cl100k):
    from tests.tui.helpers import plain
    from tui_transformer.train.events import ShardStatus
    from tui_transformer.tui.widgets.shard_panel import shard_text

    source = open_source("hf:tiny/stories")
    source.chunk("val", 0, cl100k).release()
    source.close()
    shown = plain(shard_text(ShardStatus(source.name, source.description, source.status())))
    assert "tiny/stories, column 'story'" in shown
    assert "shard_val_00000.parquet" in shown and "split: validation: the dataset's own 'validation' split" in shown


def test_data_status_and_clean_cover_hub_datasets(datasets_hub, capsys):
    import json

    from tui_transformer.cli import main

    source = open_source("hf:tiny/stories")
    cached_texts(source, "train")
    capsys.readouterr()
    assert main(["data", "status", "--json"]) == 0
    [dataset] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["hf"]
    assert dataset["spec"] == "hf:tiny/stories" and [s["name"] for s in dataset["shards"]] == ["shard_00000.parquet"]
    assert main(["data", "status"]) == 0
    assert "Hub dataset hf:tiny/stories  (1 shards" in capsys.readouterr().out
    assert main(["data", "clean"]) == 0
    assert "deleted 1 shards" in capsys.readouterr().out
    assert hub_dataset.cached_datasets()[0].status()["shards"] == []
