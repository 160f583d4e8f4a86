"""The page scanner finds every way a page can make the browser load from another host, and only those."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from medsupport_shared.testing.pages import (
    css_references,
    html_references,
    is_outside,
    js_references,
    outside_references,
)

OWN = "http://127.0.0.1:8001/docs"


@pytest.mark.parametrize(
    ("url", "outside"),
    [
        ("/docs-assets/app.js", False),
        ("app.css", False),
        ("http://127.0.0.1:8001/x.png", False),
        ("data:image/png;base64,AAAA", False),
        ("#ops", False),
        ("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js", True),
        ("//fonts.googleapis.com/css?family=Roboto", True),
        ("http://127.0.0.1:9999/x.js", True),  # another port is another origin
        ("https://127.0.0.1:8001/x.js", True),
    ],
)
def test_outside_means_another_origin(url, outside):
    assert is_outside(url, OWN) is outside


def test_html_attributes_styles_and_srcset_are_all_read():
    page = html_references(
        '<link rel="stylesheet" href="/a.css"><script src="/b.js"></script>'
        '<img srcset="/s.png 1x, https://img.example/t.png 2x" style="background:url(https://bg.example/x.png)">'
        "<style>@import 'https://fonts.example/f.css';</style>"
        "<script>load('//cdn.example/x.js')</script>"
    )
    assert page.scripts == ["/b.js"] and page.stylesheets == ["/a.css"]
    assert "https://img.example/t.png" in page.urls
    assert [u for css in page.inline_css for u in css_references(css)] == [
        "https://bg.example/x.png",
        "https://fonts.example/f.css",
    ]
    assert page.inline_js == ["load('//cdn.example/x.js')"]


def test_scripts_are_read_for_what_they_load_not_for_every_string():
    bundle = (
        'e.createElement("img",{src:"https://cdn.redoc.ly/redoc/logo-mini.svg"});'  # ReDoc's logo: a load
        'const s=document.createElement("link");s.href="//fonts.example/f.css";'
        "css`@font-face{src:url(https://fonts.example/a.woff2)}`;"
        'const license="https://www.apache.org/licenses/LICENSE-2.0";'  # a plain string: not a load
    )
    assert js_references(bundle) == [
        "https://cdn.redoc.ly/redoc/logo-mini.svg",
        "//fonts.example/f.css",
        "https://fonts.example/a.woff2",
    ]


async def test_a_page_is_followed_into_its_own_scripts_and_stylesheets():
    async def page(request):
        return HTMLResponse('<link rel="stylesheet" href="/s.css"><script src="/a.js"></script><a href="/ok">ok</a>')

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/s.css", lambda r: Response("@import '/t.css'; b{}", media_type="text/css")),
            Route("/t.css", lambda r: Response("b{background:url(https://x.example/b.png)}", media_type="text/css")),
            Route("/a.js", lambda r: Response('i.src="https://y.example/p.gif"', media_type="text/javascript")),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        found = await outside_references(client, "/")
    assert found == ["/a.js: https://y.example/p.gif", "/t.css: https://x.example/b.png"]
