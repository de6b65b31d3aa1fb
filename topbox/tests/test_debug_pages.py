import sys

from django.test import RequestFactory
from django.views.debug import technical_500_response


def test_a_debug_page_summarises_huge_variables(settings):
    settings.DEBUG = True
    rows = [{"custom": {"text": "x" * 1000}, "n": n} for n in range(20_000)]  # 20 MB of rows
    body = "y" * 1_000_000
    request = RequestFactory().post("/interactions", {"big": body})
    try:
        raise RuntimeError(f"failed with {len(rows)} rows")
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())
    page = response.content.decode()
    assert response.status_code == 500
    assert "failed with 20000 rows" in page
    assert len(page) < 500_000
    assert "x" * 1000 not in page
    assert "y" * 1000 not in page
    assert "..." in page
