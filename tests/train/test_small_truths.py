"""Small truths: a .tiktoken file given by path lives on in the run; resuming an imported model says
plainly that it is not supported; and what "same seed" promises on CPU holds as the help says."""

import pytest

from tests.train.test_run_faults import TINY, runs_dir
from tui_transformer.cli import main
from tui_transformer.train.metrics import read_events


@pytest.mark.slow  # trains or imports a model: seconds
def test_a_tiktoken_file_given_by_path_is_copied_into_the_run(corpus, tmp_path, capsys):
    """The run kept only the file's stem: afterwards generate, eval, interpret and export said
    `unknown tokenizer 'x'`."""
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "t", "--max-steps", "1", "--quiet"]) == 0
    ranks = tmp_path / "x.tiktoken"
    (runs_dir() / "t" / "tokenizer.tiktoken").rename(ranks)  # a ranks file of the user's, anywhere
    tiny = list(TINY)
    tiny[tiny.index("bpe-300")] = str(ranks)
    assert main(["train", "--no-ui", "--data", str(corpus), *tiny, "--name", "x", "--max-steps", "1", "--quiet"]) == 0
    ranks.unlink()  # the user's file may go: the run has its own copy
    capsys.readouterr()
    assert main(["generate", "--run", "x", "--prompt", "the", "--max-new-tokens", "3", "--device", "cpu"]) == 0
    assert main(["export", "x", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    assert "unknown tokenizer" not in capsys.readouterr().err
    assert main(["train", "--no-ui", "--resume", "x", "--max-steps", "2", "--quiet"]) == 0  # its copy, verified


@pytest.mark.slow  # trains or imports a model: seconds
def test_resuming_an_imported_model_says_plainly_it_is_not_supported(tmp_path, capsys):
    """It said "no checkpoint yet; training it from step 0", then failed on `unknown tokenizer
    'hf-imported-gpt2'`."""
    import transformers

    from tests.interop.test_import_and_safetensors import local_gpt2

    local_gpt2(transformers, tmp_path / "g", "the cat sat on the mat. " * 200)
    assert main(["import", str(tmp_path / "g"), "--name", "imported-gpt2"]) == 0
    capsys.readouterr()
    assert main(["train", "--no-ui", "--resume", "imported-gpt2", "--max-steps", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "imported" in err and "cannot be resumed" in err, err
    assert "generate" in err and "unknown tokenizer" not in err


@pytest.mark.slow  # two short runs: ~4 s here
def test_same_seed_cpu_runs_agree_as_the_help_says(corpus, capsys):
    """The help said "CPU runs with the same seed are identical"; 1 of 6 runs logged a loss one float
    step off. What holds: the same data and initial weights, and losses within 1e-5 of each other."""
    losses = []
    for name in ("a", "b"):
        assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", name, "--max-steps", "6",
                     "--quiet"]) == 0
        steps = [e for e in read_events(runs_dir() / name / "metrics.jsonl") if type(e).__name__ == "StepMetrics"]
        losses.append([(e.step, e.tokens_seen, e.loss) for e in steps])
    (a, b) = losses
    assert [x[:2] for x in a] == [x[:2] for x in b]
    assert a[0][2] == b[0][2]  # the first step: the same weights on the same batch
    assert all(abs(x[2] - y[2]) <= 1e-5 * abs(x[2]) for x, y in zip(a, b))
    from tui_transformer.commands.train import SETTINGS

    (seed_help,) = [text for flag, _, _, text in SETTINGS if flag == "--seed"]
    assert "identical" not in seed_help and "1e-5" in seed_help
