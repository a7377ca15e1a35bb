"""sources/uploads.py: the names an upload may be kept under (what the ingest does with one: test_controller_api.py)."""
from __future__ import annotations

import pytest

from assistant.errors import ArticleError
from assistant.sources.uploads import Uploads, safe_upload_name
from assistant.types import IngestReport


@pytest.mark.parametrize("name, expected", [
    ("story.md", "story.md"), ("../../etc/evil.txt", "evil.txt"), ("/abs/path/x.HTML", "x.html"),
    ("C:\\Users\\me\\y.json", "y.json"), ("a\x00b.txt", "ab.txt"), (".hidden.md", "hidden.md"),
    ("weird <name>;rm -rf.jsonl", "weird _name_rm -rf.jsonl"),
])
def test_safe_upload_names(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "..", "", "noext", "x.txt/..", "photo.png", "..txt"])
def test_unsafe_upload_names_are_refused(name):
    with pytest.raises(ArticleError):
        safe_upload_name(name)


def test_uploads_are_stored_under_safe_names_within_the_size_limit(tmp_path):
    sent = tmp_path / "sent"
    sent.mkdir()
    (sent / "tmp1").write_text("Headline\n\nBody.")
    (sent / "tmp2").write_text("x" * 2000)
    uploads = Uploads(tmp_path / "uploads", max_bytes=1000)
    copied, refused, earlier = uploads.store([(sent / "tmp1", "../../story.md"), (sent / "tmp2", "big.txt"),
                                              (sent / "tmp1", "tool.exe")])
    assert copied == [(tmp_path / "uploads" / "story.md").resolve()] and earlier == {}
    assert [name for name, _ in refused] == ["big.txt", "tool.exe"]
    assert "NEWSDESK_MAX_FILE_MB" in refused[0][1] and "unsupported file type .exe" in refused[1][1]


def test_a_rejected_new_version_gives_the_earlier_upload_back(tmp_path):
    uploads = Uploads(tmp_path / "uploads", max_bytes=10_000)
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text("Harbour reopens\n\nThe harbour reopened on Monday.")
    second.write_text("")
    uploads.store([(first, "harbour.txt")])
    kept = (tmp_path / "uploads" / "harbour.txt").resolve()

    def ingest(paths):  # what the ingest reports for an empty file
        return IngestReport(failed=[(str(p), "the file is empty") for p in paths])

    report = uploads.ingest([(second, "harbour.txt"), (tmp_path / "missing", "gone.txt")], ingest, lambda path: [])
    assert kept.read_text().startswith("Harbour reopens")  # the earlier upload is back
    assert sorted(p.name for p in kept.parent.iterdir()) == ["harbour.txt"]  # and nothing hidden is left
    assert report.failed[0][0] == "gone.txt"  # refused before the ingest: listed first
    assert report.failed[1] == (str(kept), "the file is empty; the upload was not kept; the earlier upload of this "
                                           "name stays")
