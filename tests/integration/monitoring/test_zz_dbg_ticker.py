from tests.integration.monitoring.test_screenshots import stored  # noqa
from tests.integration.monitoring import corpus
from lianbo.adapters.media.screenshots import measure_screenshot
from lianbo.domain.monitoring.verification import compared, Expected, read_tracks

def test_dbg(stored):
    e = Expected.stored(stored, 2.5)
    for i in range(100, 112):
        for band in ("bottom", "top"):
            sh = measure_screenshot(corpus.framebuffer(corpus.picture(i), 1920, 1.0, band)).shot
            print(i, band, compared(sh, e))
    t = read_tracks(stored)
    for s in range(5):
        e = Expected([t.full[s]], 0.0, above=[t.above[s]], below=[t.below[s]])
        for o in range(5):
            if o != s:
                sh = measure_screenshot(corpus.framebuffer(corpus.picture(o), 1280, 1.0, "top")).shot
                print("scene", s, o, compared(sh, e))
    assert 0
