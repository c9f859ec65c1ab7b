"""synthetic:repeats: deterministic, offline, its val split disjoint from train, read with letters-<N>."""

import numpy as np
import pytest

from tui_transformer.data import BatchLoader, get_tokenizer, open_source
from tui_transformer.data.source_factory import check_data_spec
from tui_transformer.data.synthetic_spec import parse_synthetic
from tui_transformer.errors import ConfigError, UserError


def windows(spec, split, n=40):
    source = open_source(spec)
    with BatchLoader(source, get_tokenizer(source.own_tokenizer), split=split, batch_size=8, seq_len=64) as loader:
        return np.concatenate([loader.next_batch()[0].numpy() for _ in range(n)])


def test_the_same_spec_gives_the_same_batches_and_another_seed_others():
    first, again = windows("synthetic:repeats", "train", 5), windows("synthetic:repeats", "train", 5)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, windows("synthetic:repeats:seed=1", "train", 5))


def test_val_shares_no_sequence_with_train():
    train = {row.tobytes() for row in windows("synthetic:repeats", "train", 80)}
    val = {row.tobytes() for row in windows("synthetic:repeats", "val", 10)}
    assert len(val) == 80 and not train & val


def test_every_sequence_is_segments_each_followed_by_itself():
    source = open_source("synthetic:repeats:ids=8:min=3:max=5:len=40")
    sequence = source.document(7).tolist()
    assert len(sequence) == 40 and set(sequence) <= set(range(8))
    position = 0
    while position < 40:  # some length 3..5 splits off a segment and its copy (the last pair may be cut)
        fits = [n for n in (3, 4, 5) if sequence[position:position + n] == sequence[position + n:position + 2 * n]]
        if not fits:
            assert 40 - position < 10, (position, sequence)
            break
        position += 2 * fits[0]


def test_the_letters_tokenizer_prints_ids_as_letters_and_leaves_out_what_it_has_no_id_for():
    tokenizer = get_tokenizer("letters-32")
    assert tokenizer.vocab_size == 33 and tokenizer.eot_id == 32
    assert tokenizer.encode("BAf") == [1, 0, 31]
    assert tokenizer.encode("Bh A!") == [1, 0]  # h, the space and ! are not among A..Z a..f
    assert tokenizer.decode([1, 0, 31]) == "BAf"


@pytest.mark.parametrize("spec, words", [
    ("synthetic:copies", "the one kind"), ("synthetic:repeats:ids=99", "from 2 to 62"),
    ("synthetic:repeats:min=9:max=4", "min <= max"), ("synthetic:repeats:ids=x", "not a whole number"),
    ("synthetic:repeats:size=3", "expected ids=N"), ("builtin:train-docs=0", "positive number"),
])
def test_a_bad_spec_is_one_clear_error_before_anything_opens(spec, words):
    with pytest.raises(ConfigError, match=words):
        check_data_spec(spec)


def test_options_are_read_by_name_and_the_rest_default():
    assert parse_synthetic("synthetic:repeats:max=8:ids=16") == parse_synthetic("synthetic:repeats:ids=16:max=8")
    assert str(parse_synthetic("synthetic:repeats:ids=16")) == "synthetic:repeats:ids=16:min=4:max=16:len=64:seed=0"


def test_a_synthetic_source_refuses_another_tokenizer():
    source = open_source("synthetic:repeats")
    with pytest.raises(UserError, match="letters-32"):
        source.chunk("train", 0, get_tokenizer("letters-16"))


@pytest.mark.slow  # builds the builtin corpus (seconds) when no test before it has
def test_a_builtin_slice_trains_on_its_first_documents_and_keeps_val_whole():
    whole, part = open_source("builtin"), open_source("builtin:train-docs=5")
    group = part.groups[0]
    assert part.split_documents("train", group) == whole.split_documents("train", whole.groups[0])[:5]
    assert part.split_documents("val", group) == whole.split_documents("val", whole.groups[0])
