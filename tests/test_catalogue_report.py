"""The staff review page shows every key in every language, escaped."""
import html

from bot import catalogue, catalogue_report


def test_report_shows_every_rendering(tmp_path):
    target = tmp_path / "report.html"
    catalogue_report.main([str(target)])
    page = target.read_text(encoding="utf-8")
    for code in catalogue.languages():
        for key in ("what_is_trafficking", "contact_block"):
            assert html.escape(catalogue.text(key, code)) in page
    assert 'dir="rtl" lang="ar"' in page
    assert "no problems" in page
