"""Every relative link in the documentation leads somewhere: README.md, CHANGELOG.md and docs/**/*.md
(docs/rules/ too, generated). A link's file must exist, and its `#anchor` must be a heading of the
target page as GitHub names it. The Markdown is parsed with markdown-it-py (CommonMark, plus
tables), so links in code spans and fenced blocks are left alone, as GitHub leaves them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

REPOSITORY = Path(__file__).resolve().parents[1]
PAGES = sorted([REPOSITORY / "README.md", REPOSITORY / "CHANGELOG.md", *(REPOSITORY / "docs").rglob("*.md")])

PARSER = MarkdownIt("commonmark").enable("table")


def inline_tokens(text: str):
    """The inline tokens of the page, each with the heading level it belongs to (0: not a heading)."""
    tokens = PARSER.parse(text)
    for index, token in enumerate(tokens):
        if token.type == "inline":
            opener = tokens[index - 1]
            yield (int(opener.tag[1]) if opener.type == "heading_open" else 0), token


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: lower case, punctuation but `-` and `_` removed,
    each space a `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The page's heading anchors; a repeated heading gets `-1`, `-2`, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for level, token in inline_tokens(page.read_text(encoding="utf-8")):
        if not level:
            continue
        text = "".join(child.content for child in token.children if child.type in ("text", "code_inline"))
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The targets of the page's links and images, as written."""
    targets = []
    for _, token in inline_tokens(page.read_text(encoding="utf-8")):
        for child in token.children:
            if child.type == "link_open":
                targets.append(child.attrs["href"])
            elif child.type == "image":
                targets.append(child.attrs["src"])
    return targets


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue  # a web address: not checked here
        path = unquote(parts.path)
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            problems.append(f"{target}: no such file")
        elif parts.fragment and destination.suffix == ".md":
            if unquote(parts.fragment) not in anchors(destination):
                problems.append(f"{target}: no such heading in {destination.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPOSITORY)) for p in PAGES])
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


def test_the_pages_the_readme_sends_readers_to_are_all_checked() -> None:
    names = {str(p.relative_to(REPOSITORY)) for p in PAGES}
    assert {"README.md", "CHANGELOG.md", "docs/rules.md", "docs/cli.md", "docs/editors.md",
            "docs/rules/ORM001.md", "docs/rules/README.md"} <= names
    readme_links = links(REPOSITORY / "README.md")
    assert "docs/cli.md#the-cache-and---jobs" in readme_links
    assert "docs/rules/ORM001.md" in readme_links


def test_github_anchor_names() -> None:
    assert slug("`ormlens check [PATH ...]`") == "ormlens-check-path-"
    assert slug("The cache and `--jobs`") == "the-cache-and---jobs"
    assert slug("ORM001 n-plus-one-query") == "orm001-n-plus-one-query"
    assert slug("What counts as bounded (besides literals, `range(<const>)`, chunks and pages)") == (
        "what-counts-as-bounded-besides-literals-rangeconst-chunks-and-pages")
    assert slug("Framework plugins: code a framework calls once per row") == (
        "framework-plugins-code-a-framework-calls-once-per-row")


def test_a_missing_file_a_missing_heading_and_code_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Usage\n\n## Usage\n\n```sh\n# not a heading\n```\n",
                                       encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md#usage-1), [ok too](#page), [web](https://example.com/x.md#nothing),\n"
        "[split over\nlines](other.md#usage), `[in code](gone.md)`, ![picture](missing.png),\n"
        "[gone](gone.md), [no heading](other.md#usage-2), [comment](other.md#not-a-heading),\n"
        "[here](#nowhere)\n\n"
        "```md\n[fenced](gone.md)\n```\n",
        encoding="utf-8")
    assert broken_links(page) == [
        "missing.png: no such file",
        "gone.md: no such file",
        "other.md#usage-2: no such heading in other.md",
        "other.md#not-a-heading: no such heading in other.md",
        "#nowhere: no such heading in page.md",
    ]
