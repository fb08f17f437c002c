"""The comparison page: the answer first, self-contained, and (in a real Chromium) no wider than a
1,400-pixel window, with the verdicts of a real grid and not one request made."""

import re
import shutil

import pytest
from comparisons import hand_made_comparison

from kerasce.analyze.page import breakable, comparison_page
from kerasce.analyze.tolerance import Difference

VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IMAGES = {"digits_differences.png": b"\x89PNG-d", "digits_pr_curves.png": b"\x89PNG-o"}


def test_the_page_leads_with_the_answer_then_figures_then_tables():
    page = comparison_page(hand_made_comparison(images=IMAGES))
    order = [page.index(part) for part in ('id="summary"', 'id="figures"', 'id="tables"')]
    assert order == sorted(order)
    assert page.index('alt="digits_differences.png"') < page.index("<details><summary>Overlaid curves")
    assert page.index("<details><summary>Overlaid curves") < page.index('alt="digits_pr_curves.png"')


def test_an_effect_whose_interval_excludes_zero_is_coloured():
    page = comparison_page(hand_made_comparison())
    assert '<td class="verdict differs">differs</td>' in page
    assert re.search(r'<span class="effect differs worse">.*?test_<wbr>loss</span> \+0\.0110', page)
    assert '<td class="verdict zero">identical</td>' in page
    assert '<span class="effect rounding">' in page
    assert '<td><span class="effect differs worse">NaN/Inf events in 1 of 3 runs</span>' in page
    assert '<span class="verdict differs">NaN/Inf events</span>: log_<wbr>softmax_<wbr>nll' in page


def test_the_page_is_self_contained():
    page = comparison_page(hand_made_comparison(images=IMAGES))
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert "<script src" not in page and "@import" not in page


def test_tables_sort_by_the_numbers_behind_the_text():
    page = comparison_page(hand_made_comparison())
    assert '<table class="sortable">' in page
    # a loss cell reads '0.25 ± 0.12' and sorts by the mean
    assert '<td data-sort="0.24999999966666664">0.25 ± 0.12</td>' in page


def test_long_names_may_break_after_underscores_and_dots():
    assert breakable("data.max_samples") == "data.<wbr>max_<wbr>samples"
    assert breakable("0.25 ± 0.12") == "0.25 ± 0.12"
    assert breakable("<b>") == "&lt;b&gt;"


def browser():
    """Playwright's Chromium on Debian's binary, or a skip that says what is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (make test installs it)"
    )
    if not shutil.which(CHROMIUM):
        pytest.skip(
            f"no Chromium at {CHROMIUM} (make test installs Debian's chromium; apt-get install chromium)"
        )
    return sync_api.sync_playwright()


WIDER_THAN_THE_WINDOW = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName + '.' + e.className)"""


@pytest.mark.slow
def test_the_page_in_chromium(precision_store, tmp_path):
    from kerasce import api

    comparison = api.compare(["precisions"], precision_store)
    # float32: softmax_ce's loss is its twin's to the last bit (Keras recovered the logits)
    float32 = comparison.paired.set_index("precision").loc["float32"]
    assert float32["test_loss_difference"] == Difference.IDENTICAL
    path = tmp_path / "comparison.html"
    path.write_text(comparison.texts["comparison.html"])
    requests = []
    with browser() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=VIEWPORT
        )
        try:
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            check_fits(page)
            check_verdicts(page)
            check_sorting(page)
            assert page.pdf()[:4] == b"%PDF"  # printable
        finally:
            context.close()
    assert [url for url in requests if not url.startswith("data:")] == [path.as_uri()]


def check_fits(page):
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == []
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    images = page.evaluate("[...document.images].map(i => i.naturalWidth)")
    assert len(images) == 4 and all(width > 0 for width in images)  # 1 difference + 3 overlaid figures


def check_verdicts(page):
    """In float32 softmax_ce trains exactly like logits_ce (metrics read off probabilities may
    differ in the last bits); under mixed_float16 it clips and does not."""
    rows = page.locator("table.summary tr").all_inner_texts()
    verdicts = {}
    setting = None
    for row in rows:
        cells = row.split("\t")
        if len(cells) == 1:
            setting = cells[0]
        elif cells[0] == "softmax_ce":
            verdicts[setting] = (cells[1], cells[4])
    assert verdicts["precision = float32"][0] == "recovered_logits"
    assert verdicts["precision = float32"][1] in ("identical", "≈ 0 (float rounding)")
    assert verdicts["precision = mixed_float16"][0] == "clipped_probabilities"
    assert verdicts["precision = mixed_float16"][1] in ("differs", "no detectable difference")
    first = page.locator("#summary ul.answer").inner_text()
    assert page.locator("h2").first.inner_text() == "Summary" and "precision = mixed_float16" in first


def check_sorting(page):
    page.locator("#tables details").first.evaluate("d => d.open = true")
    table = page.locator("table.sortable").first
    headers = table.locator("th").all_inner_texts()
    column = headers.index("test_loss")
    table.locator("th").nth(column).click()
    assert table.locator("th").nth(column).get_attribute("data-dir") == "asc"
    keys = table.locator(f"tbody tr td:nth-child({column + 1})").evaluate_all(
        "cells => cells.map(c => parseFloat(c.dataset.sort))"
    )
    assert keys == sorted(keys) and len(keys) == 4
