"""docs/gallery.md: the index of the gallery shows every picture its pages hold, links every page,
and no page links a file that is not there."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted((DOCS / "gallery").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s#]+)\)")


def test_the_index_shows_every_picture_and_links_every_page():
    index = (DOCS / "gallery.md").read_text()
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", index))
    pictures = {f"gallery/{p.name}" for p in (DOCS / "gallery").iterdir() if p.suffix in (".png", ".svg")}
    assert sorted(pictures - shown) == []
    assert sorted(f"gallery/{p.name}" for p in PAGES if f"](gallery/{p.name})" not in index) == []
    assert "docs/gallery.md" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("page", [DOCS / "gallery.md", *PAGES], ids=lambda p: p.name)
def test_every_file_a_gallery_page_links_is_there(page):
    links = [link for link in LINK.findall(page.read_text()) if not link.startswith(("http://", "https://"))]
    assert links
    assert [link for link in links if not (page.parent / link).exists()] == []
