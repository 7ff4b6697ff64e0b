"""sim/app.py, the dashboard: the model it builds from slider values, its live outcomes, its figures,
and the page itself in a headless browser.

The browser test starts ``solara run sim.app`` on a free localhost port, drives the page with
Playwright and Debian's Chromium (``/usr/bin/chromium``; nothing is downloaded at test time),
and saves screenshots under the test's temporary folder. It is skipped only where that browser
or the playwright package is absent; ``.ci/run`` installs the browser, so CI runs it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip(
    "solara", reason="the dashboard extra is absent (pip install -e '.[dashboard]'; make test installs it)"
)

from helpers import CONFIG_DIR, W_COLUMNS, compose_params
from PIL import Image

from sim.app import (
    DEFAULTS,
    KEY_PARAMETERS,
    DashboardModel,
    PageModel,
    PageSettings,
    alignment_figure,
    default_value,
    gap_figure,
    japan_gap,
    live_outcomes,
    reference_gap,
    scenario_names,
    slider_settings,
)
from sim.drivers import names as driver_names
from sim.drivers import spec as driver_spec
from sim.model import simulate
from sim.plots import figure_has_data

SEED = 11
STEPS = 6
# Slider values as the page passes them (the seed arrives as text from the input box).
SLIDERS: dict[str, Any] = {
    "china_coercion": 0.5,
    "us_pressure": 1.25,
    "balancing_gain": 2.0,
    "intent_decay_per_quarter": 0.12,
    "scenario_name": "no_nk_provocation",
    "seed": str(SEED),
}
# The same run written as command-line overrides, independently of the page's own translation.
OVERRIDES = [
    "scenario=no_nk_provocation",
    "drivers.china_coercion.scale=0.5",
    "drivers.us_pressure.scale=1.25",
    "params.alignment.balancing_gain=2.0",
    "params.perception.intent_decay_per_quarter=0.12",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY_TIMEOUT_S = 90.0  # server start; measured 3-5 s on a loaded 2-core machine
UI_TIMEOUT_MS = 30_000  # one page update (a step redraws two figures; ~0.3-1.5 s measured)


@pytest.fixture(scope="module")
def stepped() -> DashboardModel:
    """The dashboard model built from :data:`SLIDERS`, stepped :data:`STEPS` quarters."""
    model = DashboardModel(**SLIDERS)
    for _ in range(STEPS):
        model.step()
    return model


def test_slider_values_build_the_parameters_of_the_equivalent_command(stepped: DashboardModel) -> None:
    reference = compose_params(OVERRIDES)
    assert stepped.params == reference
    assert stepped.seed == SEED
    assert stepped.overrides == [OVERRIDES[0], f"seed={SEED}", *OVERRIDES[1:]]
    assert stepped.command == "python -m sim " + " ".join(stepped.overrides)
    assert not stepped.is_reference and not stepped.ignored_drivers


def test_live_gap_equals_the_outcomes_table_turn_by_turn(stepped: DashboardModel) -> None:
    outcomes = simulate(compose_params(OVERRIDES), SEED)["outcomes"].set_index("t")
    table = outcomes.loc[:STEPS, ["china_wants_gap", *W_COLUMNS]]
    live = np.array([[row["china_wants_gap"], *(row[c] for c in W_COLUMNS)] for row in stepped.outcomes])
    assert stepped.turn == STEPS and live.shape == (STEPS + 1, 1 + len(W_COLUMNS))
    np.testing.assert_allclose(live, table.to_numpy(), rtol=0, atol=1e-12)
    assert japan_gap(stepped) == pytest.approx(table["china_wants_gap"].iloc[-1], abs=1e-12)
    assert live_outcomes(stepped)["china_wants_gap"] == japan_gap(stepped)
    # The check has teeth: the gap moves over these quarters, and the sliders move it.
    assert np.ptp(live[:, 0]) > 1e-4
    default = DashboardModel(seed=SEED)
    for _ in range(STEPS):
        default.step()
    assert abs(japan_gap(default) - japan_gap(stepped)) > 1e-4


def test_recorded_alignments_and_time_axis(stepped: DashboardModel) -> None:
    states = simulate(compose_params(OVERRIDES), SEED)["states"]
    table = states[states["t"] <= STEPS].pivot(index="t", columns="actor", values="alignment")
    np.testing.assert_allclose(np.array(stepped.alignments), table[list(stepped.inputs.codes)].to_numpy(), atol=1e-12)
    assert stepped.times == [2010.0, 2010.25, 2010.5, 2010.75, 2011.0, 2011.25, 2011.5]
    assert stepped.time_span == (2010.0, 2030.75)


def test_a_driver_the_scenario_sets_keeps_the_scenario_value() -> None:
    model = DashboardModel(china_coercion=1.5, nk_provocation=0.0, scenario_name="no_china_coercion")
    assert model.params.drivers.china_coercion.scale == 0.0
    assert model.params.drivers.nk_provocation.scale == 0.0
    assert model.ignored_drivers == ["china_coercion"]
    assert "drivers.china_coercion" not in model.command
    assert "drivers.nk_provocation.scale=0.0" in model.command


def test_choosing_a_scenario_sets_the_driver_sliders_and_reset_builds_from_them() -> None:
    settings = PageSettings()
    china = settings.values["china_coercion"]
    china.value = 1.5  # the user's move, then a scenario that sets this driver itself
    settings.values["scenario_name"].subscribe(settings.choose_scenario)  # as the page does
    settings.values["scenario_name"].value = "no_china_coercion"
    assert china.value == 0.0  # at selection, before any Reset
    assert settings.model_params()["china_coercion"]["value"] is china  # the slider shows this value
    settings.values["scenario_name"].value = "baseline"
    assert china.value == 1.0 and settings.values["nk_provocation"].value == 1.0
    settings.values["us_pressure"].value = 0.5
    # Mesa's Reset passes its own (stale) record of the inputs and a Mesa Scenario: the settings win.
    model = PageModel(settings, china_coercion=0.25, scenario_name="no_us_pressure", scenario=object())
    assert model.overrides == ["scenario=baseline", "seed=2024", "drivers.us_pressure.scale=0.5"]


def test_dashboard_labels_are_legible_at_the_start_and_the_end_of_a_run() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    model = DashboardModel()  # 13 actors besides the poles; at the end most sit in two clusters near the poles
    for turn in (0, model.n_turns - 1):
        while model.turn < turn:
            model.step()
        fig = alignment_figure(model)
        renderer = FigureCanvasAgg(fig).get_renderer()
        inside = fig.bbox
        labels = [t for t in fig.axes[0].texts if str(t.get_gid()).endswith(" label")]
        boxes = [Text.get_window_extent(t, renderer) for t in labels]
        assert len(boxes) == len(model.inputs.codes)  # every actor, and the two poles
        assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1 :]), f"turn {turn}"
        assert all(inside.contains(b.x0, b.y0) and inside.contains(b.x1, b.y1) for b in boxes), f"turn {turn}"
        # No label crosses a pole's dashed line: actors' labels between them, the poles' outside.
        to_data = fig.axes[0].transData.inverted()
        for text, box in zip(labels, boxes, strict=True):
            (_, low), (_, high) = to_data.transform([(box.x0, box.y0), (box.x1, box.y1)])
            low, high = round(low, 9), round(high, 9)  # a label's edge on a line is not a crossing
            assert high <= -1.0 or low >= 1.0 or (low >= -1.0 and high <= 1.0), f"{text.get_text()} at turn {turn}"
        # The gap figure's legend sits under the axes: it hides no line.
        gap = gap_figure(model, reference_gap(model.seed))
        renderer = FigureCanvasAgg(gap).get_renderer()
        legend = gap.axes[0].get_legend().get_window_extent(renderer)
        assert not legend.overlaps(gap.axes[0].get_window_extent(renderer))
        assert gap.bbox.contains(legend.x0, legend.y0) and gap.bbox.contains(legend.x1, legend.y1)


def test_defaults_are_the_reference_run_and_float_noise_is_rounded() -> None:
    # the page starts from the default configuration: the shipped calibrated point
    assert DEFAULTS.params == compose_params(("params=calibrated",)).params
    noisy = default_value("params.alignment.balancing_gain") * (1 + 1e-15)  # as a slider may send it
    model = DashboardModel(balancing_gain=noisy)
    assert model.is_reference
    assert model.overrides == ["scenario=baseline", "seed=2024"]
    assert model.params == DEFAULTS
    # the page shows a calibrated value (1.864239) at its slider's step (1.9): that position is the value itself
    key, _label, _maximum, step = KEY_PARAMETERS["balancing_gain"]
    shown = round(default_value(key) / step) * step
    assert shown != default_value(key)  # off the grid, as calibrated values are
    assert DashboardModel(balancing_gain=shown).is_reference
    moved = round(shown + step, 6)
    assert DashboardModel(balancing_gain=moved).overrides[2:] == [f"{key}={moved!r}"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": "12a"}, "seed='12a'; allowed: an integer >= 0"),
        ({"seed": "-3"}, "allowed: an integer >= 0"),
        ({"scenario_name": "no_such"}, "scenario='no_such'; allowed: ['baseline'"),
        ({"china_coercion": 20.0}, "drivers.china_coercion.scale=20.0 is out of range"),
    ],
)
def test_bad_settings_are_rejected_with_the_key_and_what_is_allowed(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        DashboardModel(**kwargs)


def test_on_the_page_a_bad_seed_is_reported_instead_of_raised() -> None:
    model = DashboardModel(seed=" 12a", lenient_seed=True)
    assert model.seed == 2024
    assert model.setting_errors == ["seed=' 12a'; allowed: an integer >= 0; this run uses seed=2024"]
    assert DashboardModel(seed=" 12 ", lenient_seed=True).seed == 12


def test_scenario_selector_lists_every_scenario_file_baseline_first() -> None:
    names = scenario_names()
    assert names[0] == "baseline"
    assert sorted(names) == sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    settings = slider_settings()
    assert settings["scenario_name"]["values"] == names
    assert set(settings) == {*driver_names(), *KEY_PARAMETERS, "scenario_name", "seed"}


def test_figures_draw_the_recorded_data(stepped: DashboardModel) -> None:
    fig = alignment_figure(stepped)
    non_poles = [i for i, code in enumerate(stepped.inputs.codes) if code not in ("CHN", "USA")]
    lines = fig.axes[0].get_lines()[: len(non_poles)]  # the actors first, then the pole and zero marks
    for line, i in zip(lines, non_poles, strict=True):
        np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), np.array(stepped.times))
        np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), np.array(stepped.alignments)[:, i])
    labels = {text.get_text() for text in fig.axes[0].texts}
    assert {stepped.inputs.codes[i] for i in non_poles} <= labels
    reference = np.linspace(0.4, 0.6, stepped.n_turns)
    gap = gap_figure(stepped, reference)
    ydata = [np.asarray(line.get_ydata()) for line in gap.axes[0].get_lines()]
    assert any(len(y) == stepped.n_turns and np.allclose(y, reference) for y in ydata)
    gap_values = [row["china_wants_gap"] for row in stepped.outcomes]
    assert any(len(y) == len(gap_values) and np.allclose(y, gap_values) for y in ydata)
    assert figure_has_data(fig) and figure_has_data(gap)


# --------------------------------------------------------------------------------------------
# The page in a browser
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def solara_assets_present() -> bool:
    """True if Solara's local CDN folder holds the page's main bundle (make install puts it there)."""
    cdn = Path(sys.prefix) / "share" / "solara" / "cdn"
    folder = Path(os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR", cdn))
    return (folder / "@widgetti" / "solara-vuetify-app@10.1.1" / "dist" / "solara-vuetify-app8.min.js").is_file()


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> float:
    """Seconds until ``url`` answers 200; fails with the server's log if it exits or times out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            pytest.fail(f"solara exited with {process.returncode} before serving:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"solara did not serve {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[str]:
    """Start the dashboard on a free port with a throw-away home; yield its URL; always stop it."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_HOME": str(home / ".solara"),
        "IPYTHONDIR": str(home / ".ipython"),
        "HOME": str(home),
    }
    port = free_port()
    log = tmp_path / "solara.log"
    command = [sys.executable, "-m", "solara", "run", "sim.app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-open", "--no-check-version", "--production"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        seconds = wait_until_serving(url, process, log, READY_TIMEOUT_S)
        print(f"dashboard serving after {seconds:.1f} s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def colored_pixels(png: bytes) -> int:
    """Pixels of a screenshot in clear colours (the data lines; axes and text are grey or black)."""
    rgb = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 80).sum())


def changed_pixels(before: bytes, after: bytes) -> int:
    """Pixels that differ between two screenshots of the same size."""
    a = np.asarray(Image.open(BytesIO(before)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(BytesIO(after)).convert("RGB")).astype(int)
    assert a.shape == b.shape, "the plot changed size"
    return int((np.abs(a - b).sum(axis=2) > 30).sum())


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="no browser: /usr/bin/chromium is absent (Debian: apt-get install -y chromium; .ci/run installs it)",
)
@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None,
    reason="the playwright Python package is absent (pip install -e '.[dashboard]')",
)
def test_page_steps_and_redraws_the_plots_offline(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    assert solara_assets_present(), (
        "Solara's page assets are missing: run `make install` (tools/install_solara_assets.py)"
    )
    plots = {"alignment": "img.sim-plot-alignment", "gap": "img.sim-plot-gap"}

    def wait_for_turn(page: Page, expected: int) -> None:
        expect(page.locator(".sim-status")).to_contain_text(f"(turn {expected} of 83)", timeout=UI_TIMEOUT_MS)

    def loaded_plots(page: Page, old_sources: dict[str, str | None]) -> dict[str, bytes]:
        """Screenshots of both plots once each shows a new, fully loaded image."""
        shots = {}
        for name, selector in plots.items():
            page.wait_for_function(
                "([sel, old]) => { const img = document.querySelector(sel);"
                " return img && img.src !== old && img.complete && img.naturalWidth > 0; }",
                arg=[selector, old_sources.get(name)],
                timeout=UI_TIMEOUT_MS,
            )
            shots[name] = page.locator(selector).screenshot()
        return shots

    def sources(page: Page) -> dict[str, str | None]:
        return {name: page.get_attribute(selector, "src") for name, selector in plots.items()}

    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            offline_misses: list[str] = []
            page.on("requestfailed", lambda request: offline_misses.append(request.url))
            page.goto(dashboard_url)
            wait_for_turn(page, 0)
            before = loaded_plots(page, {})
            page_ready = time.perf_counter() - started
            page.screenshot(path=tmp_path / "dashboard_start.png", full_page=True)
            assert colored_pixels(before["alignment"]) > 50, "the alignment plot shows no actor at the start"

            # Step: the plots must redraw with more data, not just the counter move.
            step = page.get_by_role("button", name="Step")
            old = sources(page)
            for quarter in range(1, 5):
                step.click()
                wait_for_turn(page, quarter)
            after = loaded_plots(page, old)
            for name in plots:
                assert changed_pixels(before[name], after[name]) > 300, f"the {name} plot did not change after 4 steps"
            # The actors' lines now span a year: clearly more coloured pixels than the start dots (the
            # revised mechanisms move alignments less in a year than the first model: 1.46x measured).
            dots, lines = colored_pixels(before["alignment"]), colored_pixels(after["alignment"])
            assert lines > 1.25 * dots, f"alignment plot: {dots} coloured pixels at the start, {lines} after 4 steps"
            assert "2011Q1" in page.inner_text(".sim-status")

            # Move a slider (to its minimum) and reset: the page runs the new setting.
            slider = page.get_by_role("slider", name=driver_spec("china_coercion").label)
            slider.focus()
            slider.press("Home")
            expect(slider).to_have_attribute("aria-valuenow", "0", timeout=UI_TIMEOUT_MS)
            old = sources(page)
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".sim-status")).to_contain_text(
                "drivers.china_coercion.scale=0.0", timeout=UI_TIMEOUT_MS
            )
            # the untouched parameter sliders keep the calibrated point (off their step grid) exactly
            status = page.inner_text(".sim-status")
            assert not [key for key, *_ in KEY_PARAMETERS.values() if f"{key}=" in status], status
            wait_for_turn(page, 0)
            step.click()
            wait_for_turn(page, 1)
            reset = loaded_plots(page, old)
            # The counterfactual's gap plot also draws the baseline's whole gap curve.
            assert changed_pixels(before["gap"], reset["gap"]) > 1000

            # Mesa's render interval at its maximum: one Step runs the rest of the run, drawn once.
            interval = page.get_by_role("slider", name="Render Interval (steps)")
            interval.focus()
            interval.press("End")
            expect(interval).not_to_have_attribute("aria-valuenow", "1", timeout=UI_TIMEOUT_MS)
            old = sources(page)
            step.click()
            wait_for_turn(page, 83)
            final = loaded_plots(page, old)
            assert "2030Q4" in page.inner_text(".sim-status")
            assert colored_pixels(final["alignment"]) > 5 * colored_pixels(before["alignment"])
            page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

            # Choosing a scenario sets the driver sliders to it at once (China's back to 1 from the
            # move above, North Korea's to the scenario's 0), and Reset runs exactly that.
            page.get_by_label("Scenario").click(force=True)
            page.get_by_role("option", name="no_nk_provocation", exact=True).click()
            for name, value in (("nk_provocation", "0"), ("china_coercion", "1")):
                expect(page.get_by_role("slider", name=driver_spec(name).label)).to_have_attribute(
                    "aria-valuenow", value, timeout=UI_TIMEOUT_MS
                )
            page.get_by_role("button", name="Reset").click()
            status = page.locator(".sim-status")
            expect(status).to_contain_text("python -m sim scenario=no_nk_provocation seed=2024", timeout=UI_TIMEOUT_MS)
            expect(status).not_to_contain_text("drivers.china_coercion.scale=")
            assert not offline_misses, f"requests failed (an asset missing offline?): {offline_misses}"
        finally:
            browser.close()
    print(
        f"page ready {page_ready:.1f} s after the browser started; browser part {time.perf_counter() - started:.1f} s"
    )
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
