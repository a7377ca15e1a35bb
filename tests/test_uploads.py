"""sources/uploads.py: the names an upload may be kept under (what the ingest does with one: test_controller_api.py)."""
from __future__ import annotations

import pytest

from assistant.errors import ArticleError
from assistant.sources.uploads import safe_upload_name


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
