"""`--data FOLDER` walks the folder for text files: a folder far too large to be the data (`--data ~`
walked a home folder for 38 s before failing) is refused in one line, and hidden folders are skipped."""

import pytest

from tui_transformer.data import files
from tui_transformer.data.files import PathSource
from tui_transformer.errors import UserError


def test_a_folder_with_too_many_entries_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_SCANNED_ENTRIES", 40)  # a home folder's size, scaled down
    for i in range(30):
        (tmp_path / f"dir{i}").mkdir()
        (tmp_path / f"dir{i}" / "x.bin").write_bytes(b"")
    (tmp_path / "story.txt").write_text("once upon a time " * 50)
    with pytest.raises(UserError, match=r"more than 40 files and folders: is it really the data") as raised:
        PathSource(str(tmp_path))
    assert "\n" not in str(raised.value)


def test_hidden_folders_are_not_read(tmp_path):
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "LICENSE.txt").write_text("not the data " * 50)
    (tmp_path / "story.txt").write_text("once upon a time " * 50)
    assert [f.name for f in PathSource(str(tmp_path)).files] == ["story.txt"]
