"""``tui-transformer interpret``: each analysis on a real (briefly trained) run, as JSON and as tables."""

import json
import re

import pytest

from tui_transformer.cli import main
from tui_transformer.train import run_training


@pytest.fixture
def trained(tiny_config, corpus):
    summary = run_training(tiny_config(max_steps=3, eval_interval=3))
    return summary.run_dir, str(next(corpus.glob("*.txt")))


def test_heads_and_induction_report_every_head(trained, capsys):
    run, text = trained
    assert main(["interpret", "heads", "--run", run, "--json", "--length", "6", "--tokens-from", text]) == 0
    heads = json.loads(capsys.readouterr().out)
    assert [(h["layer"], h["head"]) for h in heads["heads"]] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for row in heads["heads"]:
        assert all(0.0 <= s <= 1.0 for s in row["scores"].values())
    assert main(["interpret", "induction", "--run", run, "--json", "--length", "6", "--tokens-from", text]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["in_context_learning"] == pytest.approx(report["first_copy_loss"] - report["second_copy_loss"])
    assert main(["interpret", "induction", "--run", run, "--length", "6", "--tokens-from", text]) == 0
    assert "in-context learning score" in capsys.readouterr().out


def test_patch_and_lens(trained, capsys):
    run, _ = trained
    from tui_transformer.train.checkpoint import load_for_inference

    _, tokenizer, _ = load_for_inference(run)
    prompt_clean, prompt_corrupted = _prompts_one_token_apart(tokenizer)
    # two texts that are one token each: the answers whose logit difference is patched
    answer, wrong = _one_token_texts(tokenizer)
    args = ["interpret", "patch", "--run", run, "--json", "--clean", prompt_clean, "--corrupted", prompt_corrupted,
            "--answer", answer, "--wrong", wrong]
    assert main(args) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert len(result["residual"]) == 2 and len(result["heads"]) == 2 and len(result["heads"][0]) == 2
    # at layer 0 the stream is the input: patching the one position where the prompts differ recovers it all
    differ = [i for i, (a, b) in enumerate(zip(tokenizer.encode(prompt_clean), tokenizer.encode(prompt_corrupted)))
              if a != b]
    assert result["residual"][0][differ[0]] == pytest.approx(1.0, abs=1e-4) and len(differ) == 1
    close = abs(result["clean"] - result["corrupted"]) < 1.0  # a 3-step model barely tells the answers apart
    assert (result["warning"] is not None) == close
    assert main(args) == 0 and ("fractions mean little" in capsys.readouterr().err) == close
    assert main(["interpret", "lens", "--run", run, "--json", "--prompt", "the cat"]) == 0
    lens = json.loads(capsys.readouterr().out)
    assert len(lens["layers"]) == 2 and all(len(row) == len(lens["tokens"]) for row in lens["layers"])


def _prompts_one_token_apart(tokenizer) -> tuple[str, str]:
    """Two sentences of the corpus's grammar whose tokens differ at exactly one position."""
    from tests.sentences import OBJECTS, SUBJECTS, VERBS

    texts = [f"{s} {v} {o}" for s in SUBJECTS[:4] for v in VERBS for o in OBJECTS[:2]]
    for a in texts:
        for b in texts:
            ids_a, ids_b = tokenizer.encode(a), tokenizer.encode(b)
            if len(ids_a) == len(ids_b) and sum(x != y for x, y in zip(ids_a, ids_b)) == 1:
                return a, b
    raise AssertionError("no two prompts one token apart")


def _one_token_texts(tokenizer) -> tuple[str, str]:
    """Two different texts that the run's tokenizer encodes as one token each."""
    found = [text for text in (" ball", " book", " tree", " code", " song", " the", " a", ".")
             if len(tokenizer.encode(text)) == 1]
    return found[0], found[1]


@pytest.mark.parametrize("args, message", [
    (["patch"], "patch needs --clean, --corrupted, --answer, --wrong"),
    (["heads", "--length", "9"], "--length must be from 2 to 8"),
])
def test_bad_input_is_one_line(trained, capsys, args, message):
    run, _ = trained
    assert main(["interpret", args[0], "--run", run, *args[1:]]) == 2
    assert message in capsys.readouterr().err


def test_lens_top_k_prints_k_guesses_per_layer(trained, capsys):
    run, _ = trained
    assert main(["interpret", "lens", "--run", run, "--json", "--prompt", "the cat", "--top-k", "3"]) == 0
    lens = json.loads(capsys.readouterr().out)
    for row in lens["layers"]:
        for cell in row:
            assert len(cell) == 3 and cell[0]["p"] >= cell[1]["p"] >= cell[2]["p"]
            assert all(isinstance(guess["id"], int) for guess in cell)
    assert main(["interpret", "lens", "--run", run, "--prompt", "the cat", "--top-k", "3", "--ids"]) == 0
    out = capsys.readouterr().out
    layer_lines = [line for line in out.splitlines() if line.lstrip("│ ").startswith(("L1 ", "L2 "))]
    assert len(layer_lines) == 2 and all(line.count("%") == 3 for line in layer_lines), out
    assert "#3" in out and re.search(r"\(\d+\) [\d.]+%", out)  # ids on request


def test_attention_prints_a_t_by_t_matrix_whose_rows_sum_to_one(trained, capsys):
    run, _ = trained
    assert main(["interpret", "attention", "--run", run, "--json", "--prompt", "the cat sat", "--layer", "2",
                 "--head", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    weights, n = result["weights"], len(result["tokens"])
    assert result["name"] == "L2 H1" and len(weights) == n and all(len(row) == n for row in weights)
    assert all(sum(row) == pytest.approx(1.0, abs=1e-5) for row in weights)
    assert all(weights[i][j] == 0 for i in range(n) for j in range(i + 1, n))  # causal
    assert main(["interpret", "attention", "--run", run, "--prompt", "the cat sat"]) == 0
    out = capsys.readouterr().out
    assert "attention of L1 H1" in out and "·" in out


def test_heads_says_which_input_it_used(trained, capsys):
    run, text = trained
    assert main(["interpret", "heads", "--run", run, "--prompt", "the cat saw the cat"]) == 0
    out = capsys.readouterr().out
    assert "on your prompt" in out and "L2 H2" in out and "1.2" not in out.split("head roles")[0]
    assert main(["interpret", "heads", "--run", run, "--json", "--length", "6", "--tokens-from", text]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == "random repeated tokens"
    assert main(["interpret", "heads", "--run", run, "--json", "--prompt", "the cat"]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == "prompt"


def test_induction_pairs_heads_and_never_prints_minus_zero(trained, capsys):
    run, text = trained
    assert main(["interpret", "induction", "--run", run, "--json", "--length", "6", "--tokens-from", text]) == 0
    (pair,) = json.loads(capsys.readouterr().out)["circuits"]  # the tiny run: the strongest head, paired
    assert re.fullmatch(r"L\d H\d", pair["induction"]) and re.fullmatch(r"L1 H\d", pair["partner"])
    assert main(["interpret", "induction", "--run", run, "--length", "6", "--tokens-from", text]) == 0
    out = capsys.readouterr().out
    assert "K-composition" in out and "-0.00" not in out and not re.search(r"\b\d\.\d\b", out.split("circuits")[0])
