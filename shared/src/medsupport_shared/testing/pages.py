"""Finds what a served web page makes the browser load from other hosts: every ``src``/``href``/
``srcset``/``url()``/``@import`` in the HTML, and in the same-origin CSS and JavaScript it loads.

Used by the test that no page of the platform (API docs, staff console) needs the internet; the
browser test (``testing.browser``) checks the same thing by blocking outside hosts in Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

_URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background", "manifest"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)
# In JavaScript, what a script can make the browser load: src/href properties or attributes set to a
# literal URL, and CSS written from JS (url() / @import). Plain strings (licence links, JSON Schema ids)
# are not loads and are left alone.
_JS_LOAD = re.compile(r"""\b(?:src|href)\s*[:=]\s*(['"`])((?:https?:)?//[^'"`\s]+)\1""", re.IGNORECASE)
# A page's own inline scripts are short and ours: any absolute URL literal in them counts.
_JS_URL_LITERAL = re.compile(r"""(['"`])((?:https?:)?//[^'"`\s]+)\1""", re.IGNORECASE)


@dataclass
class PageReferences:
    """The URLs a page refers to, split into what it loads (scripts, styles) and everything else."""

    urls: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    inline_css: list[str] = field(default_factory=list)
    inline_js: list[str] = field(default_factory=list)


class _ReferenceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = PageReferences()
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        for name, value in values.items():
            if name == "srcset":
                self.found.urls.extend(part.strip().split(" ")[0] for part in value.split(",") if part.strip())
            elif name in _URL_ATTRIBUTES and value:
                self.found.urls.append(value.strip())
            elif name == "style":
                self.found.inline_css.append(value)
            elif name == "content" and values.get("http-equiv", "").lower() == "refresh" and "url=" in value.lower():
                self.found.urls.append(value.lower().split("url=", 1)[1].strip())
        if tag == "script" and values.get("src"):
            self.found.scripts.append(values["src"])
        if tag == "link" and "stylesheet" in values.get("rel", "").lower() and values.get("href"):
            self.found.stylesheets.append(values["href"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.found.inline_css.append(data)
        elif self._in == "script":
            self.found.inline_js.append(data)


def html_references(html: str) -> PageReferences:
    parser = _ReferenceParser()
    parser.feed(html)
    parser.close()
    return parser.found


def css_references(css: str) -> list[str]:
    return [match.group(2) or match.group(4) for match in _CSS_URL.finditer(css)]


def js_references(js: str) -> list[str]:
    return [match.group(2) for match in _JS_LOAD.finditer(js)] + css_references(js)


def is_outside(url: str, page_url: str) -> bool:
    """True when ``url`` (as written in ``page_url``) points at another host; ``data:``, fragments and
    same-origin paths are the page's own."""
    url = url.strip()
    if not url or url.startswith(("#", "data:", "blob:", "about:", "javascript:")):
        return False
    own, target = urlsplit(page_url), urlsplit(urljoin(page_url, url))
    return (target.scheme, target.netloc) != (own.scheme, own.netloc)


async def outside_references(client: httpx.AsyncClient, page_path: str) -> list[str]:
    """Every outside URL the HTML page at ``page_path`` refers to, directly or through the same-origin
    scripts and stylesheets it loads (one level of CSS ``@import`` followed)."""
    page_url = str(client.base_url.join(page_path))
    response = await client.get(page_path)
    response.raise_for_status()
    page = html_references(response.text)
    found = [*page.urls]
    found += [url for css in page.inline_css for url in css_references(css)]
    found += [match.group(2) for js in page.inline_js for match in _JS_URL_LITERAL.finditer(js)]
    found += [url for js in page.inline_js for url in css_references(js)]
    outside = [f"{page_path}: {url}" for url in found if is_outside(url, page_url)]
    assets = [(url, "js") for url in page.scripts] + [(url, "css") for url in page.stylesheets]
    for url, kind in assets:
        absolute = urljoin(page_url, url)
        if is_outside(absolute, page_url):
            continue  # already reported as a reference of the page
        body = (await client.get(absolute)).text
        refs = js_references(body) if kind == "js" else css_references(body)
        outside += [f"{url}: {ref}" for ref in refs if is_outside(ref, absolute)]
        if kind == "css":
            for imported in refs:
                target = urljoin(absolute, imported)
                if not is_outside(target, page_url) and imported.endswith(".css"):
                    nested = css_references((await client.get(target)).text)
                    outside += [f"{imported}: {ref}" for ref in nested if is_outside(ref, target)]
    return outside
