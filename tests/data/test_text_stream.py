"""TextStream: token ids in, text pieces out, never half a UTF-8 character."""

from tui_transformer.data import get_tokenizer
from tui_transformer.data.text_stream import TextStream


class ByteTokenizer:
    """The smallest byte-level tokenizer: token id ``b`` is the single byte ``b``."""

    def decode(self, ids: list[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")


def pieces_of(data: bytes) -> list[str]:
    stream = TextStream(ByteTokenizer())
    return [stream.push(byte) for byte in data] + [stream.flush()]


def test_a_character_split_over_tokens_comes_out_whole_with_its_last_byte():
    # "é" is c3 a9, "€" is e2 82 ac, "👍" is f0 9f 91 8d: nothing shows until the character is complete
    assert pieces_of("aé€👍".encode()) == ["a", "", "é", "", "", "€", "", "", "", "👍", ""]


def test_flush_releases_bytes_that_never_became_a_character():
    stream = TextStream(ByteTokenizer())
    assert stream.push(ord("x")) == "x"
    assert stream.push(0xC3) == ""  # the model stopped in the middle of "é"
    assert stream.flush() == "\ufffd"  # what decoding the whole output at once shows
    assert stream.flush() == ""  # nothing is handed out twice


def test_only_the_pending_ids_are_decoded():
    seen: list[list[int]] = []

    class Recording(ByteTokenizer):
        def decode(self, ids: list[int]) -> str:
            seen.append(list(ids))
            return super().decode(ids)

    stream = TextStream(Recording())
    for byte in "ab€".encode():
        stream.push(byte)
    assert seen == [[0x61], [0x62], [0xE2], [0xE2, 0x82], [0xE2, 0x82, 0xAC]]


def test_the_pieces_of_a_real_tokenizer_add_up_to_its_decode():
    tokenizer = get_tokenizer("cl100k_base")
    text = "naïve café 👩‍👩‍👧‍👦 漢字かな 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and plain words"
    ids = tokenizer.encode(text)
    stream = TextStream(tokenizer)
    pieces = [stream.push(token_id) for token_id in ids] + [stream.flush()]
    assert "".join(pieces) == tokenizer.decode(ids) == text
    assert not any("\ufffd" in piece for piece in pieces)
    assert any(piece == "" for piece in pieces)  # some character here does span two tokens
