"""The data and tokenizer commands, run through the real CLI entry point."""

import json

import pytest

from tui_transformer.cli import main


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_data_status_works_on_a_fresh_offline_machine(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path / "fresh"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    status = run_json(capsys, ["data", "status", "--json"])
    assert status["fineweb"]["shards"] == [] and status["builtin"]["cached"] is False
    assert not (tmp_path / "fresh").exists()  # looking creates nothing
    assert main(["data", "status"]) == 0
    assert "Python's own documentation (offline)" in capsys.readouterr().out


@pytest.mark.slow  # a loopback hub and the CLI
def test_prefetch_status_and_clean_against_a_loopback_hub(hub, tmp_path, capsys):
    cache = str(tmp_path / "shards")
    assert main(["data", "prefetch", "3", "--cache-dir", cache]) == 0
    assert "shard_00002.parquet" in capsys.readouterr().out
    status = run_json(capsys, ["data", "status", "--json", "--cache-dir", cache])
    assert [s["name"] for s in status["fineweb"]["shards"]] == [f"shard_0000{i}.parquet" for i in range(3)]
    assert main(["data", "clean", "--cache-dir", cache]) == 0
    assert "deleted 3 shards" in capsys.readouterr().out
    assert run_json(capsys, ["data", "status", "--json", "--cache-dir", cache])["fineweb"]["shards"] == []


def test_tokenizer_train_on_a_folder_then_the_trainer_spec_finds_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(30):
        (folder / f"{i:02d}.md").write_text(f"# Note {i}\n\nThe transformer reads tokens, note {i}.\n\n" * 5)
    first = run_json(capsys, ["tokenizer", "train", "--vocab-size", "300", "--data", str(folder), "--json"])
    again = run_json(capsys, ["tokenizer", "train", "--vocab-size", "300", "--data", str(folder), "--json"])
    assert first["was_cached"] is False and again["was_cached"] is True
    assert first["sha256"] == again["sha256"] and first["vocab_size"] == 300
    from tui_transformer.data import get_tokenizer, open_source

    assert get_tokenizer("bpe-300", open_source(str(folder))).identity()["sha256"] == first["sha256"]


@pytest.mark.parametrize("argv, message", [
    (["tokenizer", "train", "--vocab-size", "10"], "--vocab-size"),
    (["tokenizer", "train", "--data", "/no/such/path"], "not 'auto', 'builtin', 'fineweb', 'hf:OWNER/NAME', 'synthetic:repeats' or an existing path"),
    (["data", "prefetch", "0"], "at least 1"),
    (["tokenizer", "encode", "x", "--tokenizer", "bpe-x"], "bpe-<vocab size>"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_prefetch_without_network_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_TRANSFORMER_HTTP_RETRIES", "1")
    monkeypatch.setenv("TUI_TRANSFORMER_HTTP_BACKOFF", "0.01")
    assert main(["data", "prefetch", "1", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "could not reach HuggingFaceFW/fineweb on http://127.0.0.1:9: ConnectError" in err and "refused" in err
