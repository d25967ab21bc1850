"""The built HTML book, as a reader meets it: a real headless browser at a phone and a desktop width.

Run by ``make browser`` (part of ``make test``) after the book is built into ``_build/html``.
The browser is Debian's Chromium when it is installed (``apt-get install chromium``; ``.ci/run``
installs it), else Playwright's own build (``.venv/bin/playwright install chromium``, which
needs network access). Every page of the book is served from 127.0.0.1 and checked for:

* requests that leave the site (the book must work offline);
* a page wider than the viewport (sideways scrolling of the whole page);
* display equations or code cells wider than their column at desktop width;
* images without alt text (or with the file name as alt text), or that fail to load;
* MathJax leaving raw TeX behind;
* menu and contents toggles that open no drawer (phone width, one chapter page).
"""
from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: run `make setup`")


def _system_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _pages() -> list[str]:
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book at {HTML}: run `make book` (or `make test`) first")
    skip = {"search.html"}  # the search page only holds a form; genindex is checked
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts
                  and "_sources" not in p.parts
                  and 'http-equiv="Refresh"' not in p.read_text()[:2000])  # redirects


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    handler = functools.partial(_Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        exe = os.environ.get("BOOK_BROWSER") or _system_chromium()
        try:
            b = p.chromium.launch(executable_path=exe) if exe else p.chromium.launch()
        except Exception as err:  # no browser at all on this machine
            pytest.skip("no Chromium to drive: install Debian's `chromium` package "
                        "(`apt-get install chromium`) or run `.venv/bin/playwright install "
                        f"chromium` where downloads are allowed ({type(err).__name__})")
        yield b
        b.close()


_INSPECT = """() => {
  const out = {wide: [], math: [], code: [], alt: [], broken: [], rawtex: []};
  const doc = document.documentElement;
  out.pageWidth = doc.scrollWidth;
  for (const el of document.querySelectorAll('div.math')) {
    const box = el.querySelector('mjx-container') || el;
    if (box.scrollWidth > el.clientWidth + 2 || el.scrollWidth > el.clientWidth + 2)
      out.math.push((el.textContent || '').trim().slice(0, 60));
    if (!el.querySelector('mjx-container'))
      out.rawtex.push((el.textContent || '').trim().slice(0, 60));
  }
  for (const el of document.querySelectorAll('span.math')) {
    if (!el.querySelector('mjx-container'))
      out.rawtex.push((el.textContent || '').trim().slice(0, 60));
  }
  for (const el of document.querySelectorAll('div.cell pre, div.highlight pre')) {
    if (el.scrollWidth > el.clientWidth + 2)
      out.code.push((el.textContent || '').split('\\n').find(
        l => l.length > 80) || (el.textContent || '').slice(0, 60));
  }
  for (const img of document.querySelectorAll('article img, main img')) {
    const alt = (img.getAttribute('alt') || '').trim();
    const src = img.getAttribute('src') || '';
    const file = src.split('/').pop();
    if (!alt || alt === src || alt === file || /\\.(png|svg|jpe?g)$/i.test(alt))
      out.alt.push(src);
    if (!img.complete || img.naturalWidth === 0) out.broken.push(src);
  }
  return out;
}"""


def _visit(page, url):
    page.goto(url, wait_until="load")
    page.evaluate("""async () => {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise)
        await MathJax.startup.promise;
      await Promise.all(Array.from(document.images).map(img => img.complete ? null :
        new Promise(r => { img.onload = img.onerror = r; })));
    }""")
    return page.evaluate(_INSPECT)


def test_every_page_at_phone_and_desktop_width(site, browser):
    pages = _pages()
    problems = []
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        outside = []
        context.on("request", lambda req: None if req.url.startswith((site, "data:", "blob:"))
                   else outside.append(req.url))
        page = context.new_page()
        for rel in pages:
            found = _visit(page, site + rel)
            where = f"{label} {rel}"
            if found["pageWidth"] > viewport["width"] + 1:
                problems.append(f"{where}: page is {found['pageWidth']} px wide")
            if found["rawtex"]:
                problems.append(f"{where}: MathJax left raw TeX {found['rawtex'][:2]}")
            if found["alt"]:
                problems.append(f"{where}: images without alt text {found['alt'][:3]}")
            if found["broken"]:
                problems.append(f"{where}: images that did not load {found['broken'][:3]}")
            if label == "desktop" and found["math"]:
                problems.append(f"{where}: {len(found['math'])} display equations overflow, "
                                f"e.g. {found['math'][0]!r}")
            if label == "desktop" and found["code"]:
                problems.append(f"{where}: {len(found['code'])} code blocks overflow, "
                                f"e.g. {found['code'][0]!r}")
            if outside:
                problems.append(f"{where}: requests outside the site {sorted(set(outside))[:3]}")
                outside.clear()
        context.close()
    assert not problems, "\n".join(problems)


def _drawer_opens(page, toggle_selector, dialog_selector) -> bool:
    """Click the one visible toggle; the theme then opens its drawer as a modal dialog."""
    toggle = page.locator(toggle_selector).locator("visible=true")
    if toggle.count() != 1:
        return False
    toggle.click()
    page.wait_for_timeout(400)
    return page.evaluate("""(sel) => {
      const el = document.querySelector(sel);
      if (!el || !el.open) return false;
      const r = el.getBoundingClientRect();
      return r.width > 150 && r.height > 200 && (el.textContent || '').trim().length > 20;
    }""", dialog_selector)


def test_menu_and_contents_toggles_open_their_drawers_on_a_phone(site, browser):
    chapter = next(p for p in _pages() if p.startswith("book/ch01"))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(site + chapter, wait_until="load")
    assert _drawer_opens(page, "button.primary-toggle", "#pst-primary-sidebar-modal"), (
        "the menu toggle did not open the navigation drawer at phone width")
    page.goto(site + chapter, wait_until="load")
    assert _drawer_opens(page, "button.secondary-toggle", "#pst-secondary-sidebar-modal"), (
        "the contents toggle did not open the page's table of contents at phone width")
    context.close()
