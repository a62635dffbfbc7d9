"""End to end: the generated pages in headless Chromium, opened from the file system and from
`python -m http.server`: no console errors, no broken images, no broken links or anchors; and
a run's page opened while the run goes, which reloads itself until the run has ended.

Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`) and selenium (the
`dev` extra); without them the tests skip and say why. Screenshots are saved in the test's
tmp folder (`pytest -s` prints where).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import shutil
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import numpy as np
import pytest

from convwatch import run_experiment
from convwatch.base import atomic
from convwatch.report import html
from convwatch.report.learned import Agreement, LayerMatch, Learned
from convwatch.report.pages import write_compare_report, write_reports, write_run_report
from convwatch.report.reader import find_runs, load_run
from tests.run.test_live_page import LIVE, hold_at_epoch_begin, page_showing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed: pip install -e '.[dev]'"
)
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium and chromedriver are not installed "
    "(apt-get install chromium chromium-driver; .ci/run installs them where it can)",
)

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,1000",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def _mural(seed: int, size: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((size, size)) * 255).astype(np.uint8)


@pytest.fixture
def site(tmp_path, make_run):
    """A results folder: two runs that differ in the learning rate, a failed run, a run with
    hostile names, a dead run and a sweep of two; every page written as the runner and CLI
    write them."""
    root = tmp_path / "results"
    history = [
        {"epoch": e, "loss": 1 / e, "accuracy": 1 - 0.5 / e, "val_loss": 1.2 / e} for e in (1, 2, 3)
    ]

    def artifacts(seed):
        return {
            "FilterEvolution/conv1_filters.gif": [_mural(seed), _mural(seed + 1), _mural(seed + 2)],
            "FilterEvolution/conv1_filters.png": _mural(seed + 2),
            "ActivationCapture/conv1_epoch000.png": _mural(seed + 3, 90),
            "ActivationCapture/conv1_epoch003.png": _mural(seed + 4, 90),
            "ActivationCapture/activations_epoch003.npz": {"conv1": np.zeros((2, 4, 4, 3))},
            "EmbeddingProjector/pca_epoch003.csv": "x,y,label\n0,0,1\n",
        }

    for i, lr in enumerate((0.001, 0.01)):
        make_run(
            root,
            "mnist_tiny",
            f"2026010{i + 1}-120000-abc{i}",
            config={"name": "mnist_tiny", "compile": {"learning_rate": lr}, "fit": {"epochs": 3}},
            history=history,
            metrics={"test_accuracy": 0.9 + i / 100, "test_loss": 0.3 - i / 100, "epochs": 3},
            artifacts=artifacts(i),
            started=f"2026-01-0{i + 1}T12:00:00+0000",
        )
    make_run(
        root,
        "mnist_tiny",
        "20260104-120000-bad0000",
        status="failed",
        error="RuntimeError: the data ran out",
        traceback="Traceback (most recent call last):\n  ...",
        history=history[:1],
        omit=("metrics.json", "model.keras"),
    )
    make_run(
        root,
        "odd <names>",
        "20260105-120000-odd'run",
        config={"name": "odd <names>", "note": "<script>alert(1)</script>"},
        artifacts={"Cap/<b> & 'quotes'.png": _mural(9)},
    )
    make_run(  # killed on another machine: its heartbeat stopped long ago
        root,
        "mnist_tiny",
        "20260107-120000-dead000",
        status="running",
        pid=4321,
        host="another-machine",
        heartbeat="2026-01-07T12:05:00+0000",
        checkpoint_epoch=1,
        history=history[:1],
        omit=("metrics.json", "model.keras"),
    )
    sweep = root / "mnist_tiny" / "20260106-120000-sweep-1234567"
    for i in range(2):
        make_run(
            sweep.parent,
            sweep.name,
            f"20260106-12000{i}-swp{i}",
            config={"name": "mnist_tiny", "model": {"filters": 2 + i}},
            history=history,
            artifacts=artifacts(10 + i),
        )
    (sweep / "sweep.json").write_text(json.dumps({"overrides": ["model.filters=2,3"]}))
    write_reports([str(root)])
    runs = [load_run(p) for p in find_runs([str(root / "mnist_tiny" / "2026010[12]-*")])]
    write_compare_report(runs, root / "compare.html", learned=_learned(root, runs))
    return root


def _learned(root: Path, runs) -> Learned:
    """The "What the networks learned" section as `convwatch.run.learned` finds it, pictures
    and all (their arrays made up: the page, not the figures, is under test here)."""
    heatmap = atomic.write_png(root / "learned" / "cka_2.png", _mural(20, 200))
    picture = atomic.write_png(root / "learned" / "matched_2_conv1.png", _mural(21, 300))
    match = LayerMatch("conv1", [0.9, 0.3], [(1, 0, 0.9), (0, -1, float("nan"))], [1], picture)
    agreement = Agreement(1, runs[1].run_id, ["conv1"], ["conv1"], [[0.9]], heatmap, [match])
    agreement.same = {"conv1": "conv1"}
    return Learned("the first 10 test images", runs[0].run_id, {"conv1": 0.8}, [agreement])


def _pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def check_page(driver, url: str, exists) -> list[str]:
    """Open `url`; return what is wrong: console errors, broken images, links, anchors."""
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(url)
    driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return [...document.images].every(i => i.complete)")
    )
    problems = [
        f"console: {e['message']}" for e in driver.get_log("browser") if e["level"] == "SEVERE"
    ]
    broken = driver.execute_script(
        "return [...document.images].filter(i => !i.naturalWidth).map(i => i.src)"
    )
    problems += [f"broken image: {src}" for src in broken]
    anchors = driver.execute_script(
        "return [...document.querySelectorAll('a[href^=\"#\"]')]"
        ".map(a => a.getAttribute('href').slice(1))"
        ".filter(id => !document.getElementById(id))"
    )
    problems += [f"anchor without a target: #{a}" for a in anchors]
    links = driver.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
    )
    for link in {urldefrag(x).url for x in links}:
        if link != urldefrag(url).url and not exists(link):
            problems.append(f"broken link: {link}")
    assert driver.execute_script("return document.title"), url
    return problems


def _file_exists(link: str) -> bool:
    parsed = urlparse(link)
    return parsed.scheme == "file" and Path(unquote(parsed.path)).exists()


def _served(link: str) -> bool:
    try:
        with urllib.request.urlopen(link, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def _screenshot(driver, path: Path) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 600), 4000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    print(f"screenshot: {path}")
    return path


def test_pages_from_the_file_system(browser, site, tmp_path):
    pages = _pages(site)
    assert len(pages) == 10  # 7 runs, the sweep, the results index, the comparison
    for page in pages:
        assert check_page(browser, page.as_uri(), _file_exists) == [], page
    browser.get((site / "compare.html").as_uri())
    assert browser.find_element("css selector", "h1").text == "Comparing 2 runs"
    learned = browser.find_element("id", "learned").find_element("xpath", "following-sibling::p")
    assert "the first 10 test images" in learned.text
    assert "1 of 2 filters matched above r 0.8" in browser.page_source
    assert "+0.10" in browser.page_source  # conv1: 0.90 trained against 0.80 untrained
    shot = _screenshot(browser, tmp_path / "compare.png")
    assert shot.stat().st_size > 10_000
    failed = next(p for p in pages if "bad0000" in str(p))
    browser.get(failed.as_uri())
    assert "RuntimeError: the data ran out" in browser.page_source
    assert "metrics.json is missing" in browser.page_source
    _screenshot(browser, tmp_path / "failed_run.png")
    browser.get(next(p for p in pages if "dead000" in str(p)).as_uri())
    assert browser.find_element("css selector", "h1 .status").text == "dead"
    assert "no sign of life from process 4321 on host another-machine" in browser.page_source
    _screenshot(browser, tmp_path / "dead_run.png")
    browser.get((site / "index.html").as_uri())
    _screenshot(browser, tmp_path / "index.png")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output for failures
        pass


def test_pages_from_a_local_web_server(browser, site, tmp_path):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        for page in _pages(site):
            url = base + "/".join(map(urllib.request.quote, page.relative_to(site).parts))
            assert check_page(browser, url, _served) == [], url
        browser.get(base + "mnist_tiny/20260101-120000-abc0/index.html")
        gif = browser.find_element("css selector", "img[src$='conv1_filters.gif']")
        assert gif.get_attribute("naturalWidth") == "60"
        assert gif.size["width"] >= 4 * 60  # a small mural is shown at a readable size
        _screenshot(browser, tmp_path / "run.png")
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------- a run page while the run goes
def _shown_status(driver) -> str | None:
    return driver.execute_script("return document.querySelector('h1 .status')?.textContent")


def _refresh_tag(driver) -> str | None:
    return driver.execute_script(
        "return document.querySelector(\"meta[http-equiv='refresh']\")?.content ?? null"
    )


def _wait(driver, condition, timeout: float = 10):
    """`condition(driver)` once it is true; a page reloading under the query is tried again."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)
    )
    return wait.until(condition)


def test_a_run_page_opened_while_the_run_goes(browser, tmp_path, monkeypatch):
    """The run holds at epoch 2's begin (a test callback on the training thread) while the
    browser looks at the page the live page wrote after epoch 1; then it goes on, and the page
    left open reloads itself into the final one, which no longer reloads."""
    experiment = dataclasses.replace(LIVE, callbacks={"ActivationCapture": {"probe_size": 4}})
    seen = {}

    def look(run):
        page_showing(run, "1 of 2 epochs done")
        url = (run / "index.html").as_uri()
        assert check_page(browser, url, _file_exists) == []
        assert _shown_status(browser) == "running" and _refresh_tag(browser) == "10"
        live = browser.find_element("css selector", "p.live").text
        assert live.startswith("live: this page reloads every 10 s while the run is running")
        assert "1 of 2 epochs done" in live
        dots = browser.execute_script(
            "return [...document.querySelectorAll(\"svg[aria-label='loss'] circle title\")]"
            ".map(t => t.textContent)"
        )
        assert [d.split(":")[0] for d in dots if d.startswith("train")] == ["train, epoch 1"]
        seen["shot"] = _screenshot(browser, tmp_path / "live_run.png")
        # The page reloads itself: shown again with a 1 s reload, the mark set on it goes.
        monkeypatch.setattr(html, "REFRESH_S", 1)
        write_run_report(run)
        browser.get(url)
        browser.execute_script("window.convwatchMark = 1")
        _wait(browser, lambda d: d.execute_script("return window.convwatchMark === undefined"))

    hold_at_epoch_begin(monkeypatch, 2, look)
    run = run_experiment(experiment, results_dir=tmp_path / "results")
    assert seen["shot"].stat().st_size > 10_000
    # Still open in the browser: its next reload brings the final page, which stays put.
    assert _wait(browser, lambda d: _shown_status(d) == "completed")
    assert _refresh_tag(browser) is None
    assert "this page reloads" not in browser.page_source
    browser.execute_script("window.convwatchMark = 1")
    time.sleep(2.5)  # more than two of the live page's reloads
    assert browser.execute_script("return window.convwatchMark") == 1
    assert check_page(browser, (run / "index.html").as_uri(), _file_exists) == []
    _screenshot(browser, tmp_path / "ended_run.png")
