"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package) renders the
report of the example stack and of a moto live estate; the screenshot must show the page (not
a blank or an error page) and the browser must log no console message (a blocked fetch, a
refused script, a parse problem would each log one). Skipped where Chromium is not installed."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from test_reports import EXAMPLE, build_estate, live_report, scan_to

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
HEADER = (0x0F, 0x17, 0x2A)        # the page header's background
CRITICAL = (0x9F, 0x12, 0x39)      # the critical card and bars
CERTIFICATES = (0x25, 0x63, 0xEB)  # certificate bars of the calendar


def render(page: Path, shot: Path, tmp_path: Path, size=(1280, 2600)) -> list[str]:
    """Screenshot `page`; returns the console messages the browser logged."""
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}", page.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert shot.exists(), run.stderr[-2000:]
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def near(pixel, color, tolerance=8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color))


def look(shot: Path) -> tuple[int, set]:
    """(distinct colours, the colours of interest covering more than a legend's swatch)."""
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    wanted = {name for name, colour in (("header", HEADER), ("critical", CRITICAL), ("certificates", CERTIFICATES))
              if sum(n for n, c in colours if near(c, colour)) > 1000}
    return len(colours), wanted


def test_the_browser_check_sees_console_messages(tmp_path):
    """The control: a page that breaks the report's own rules is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'\"></head><body><p>x</p><script>1</script></body></html>")
    console = render(page, tmp_path / "bad.png", tmp_path, (400, 300))
    assert any("Content Security Policy" in line for line in console), console


def test_the_example_stack_report_renders(run_cli, tmp_path):
    _, body = scan_to(run_cli, tmp_path, "html", EXAMPLE)
    page = tmp_path / "example.html"
    page.write_text(body, encoding="utf-8")
    shot = tmp_path / "example.png"
    assert render(page, shot, tmp_path) == []
    colours, seen = look(shot)
    assert colours > 100
    assert seen == {"header", "critical"}       # no certificate in the example: an empty calendar


def test_a_live_estate_report_renders(aws, run_cli, tmp_path):
    build_estate(aws)
    page = tmp_path / "live.html"
    page.write_text(live_report(run_cli, aws, tmp_path, "html"), encoding="utf-8")
    shot = tmp_path / "live.png"
    assert render(page, shot, tmp_path, (1280, 3200)) == []
    colours, seen = look(shot)
    assert colours > 100
    assert seen == {"header", "critical", "certificates"}
