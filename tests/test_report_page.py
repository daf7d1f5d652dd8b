"""The report page as a browser lays it out: the profiles table keeps each cluster's column
narrow however long the feature names are (the sets-it-apart cell wraps, one feature a line)."""

from __future__ import annotations

import dataclasses

from smcluster.report import write_report
from smcluster.synthetic import synthetic_result

from .browser import headless_chromium, needs_chromium, severe_errors

LONG = "customer_lifetime_value_rolling_{:02d}_month_average_excluding_returns_eur"


@needs_chromium
def test_sets_it_apart_wraps_long_feature_names(tmp_path, monkeypatch) -> None:
    result = synthetic_result(1_500, features=12)
    assert result.pca is not None
    names = [LONG.format(i) for i in range(12)]
    result = dataclasses.replace(
        result, features=names, pca=dataclasses.replace(result.pca, features=names)
    )
    write_report(dataclasses.replace(result, hp=result.hp.replace(plots=False)), tmp_path)
    with headless_chromium(tmp_path / "profile", monkeypatch) as driver:
        driver.set_window_size(1400, 1000)
        driver.get((tmp_path / "report.html").as_uri())
        cells = driver.execute_script(
            "const row = Array.from(document.querySelectorAll('tr'))"
            ".find(r => r.cells[0].innerText.trim() === 'sets it apart');"
            "return Array.from(row.cells).slice(1)"
            ".map(c => [c.getBoundingClientRect().width, c.innerText]);"
        )
        errors = severe_errors(driver)
    assert errors == []
    assert len(cells) >= 2, cells
    font = 16  # px per rem: Chromium's default; the cell adds its padding and border
    for width, text in cells:
        if not text.strip():
            continue  # the all-rows column has none
        assert width <= 17 * font + 1, (width, text[:80])
        lines = [line for line in text.splitlines() if line.strip()]  # <br>s, not soft wraps
        assert len(lines) >= 2 and all(line.count(":") == 1 for line in lines), lines
