"""sim/inputs.py: the data files turned into run inputs, checked against the files by hand.

Hand values below are read from sim/data/*.csv (the numbers are quoted in comments).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import compose_params

from sim import inputs as sim_inputs
from sim.drivers.china_coercion import coercion_index
from sim.drivers.levels import driver_levels
from sim.inputs import (
    DATA_DIR,
    SERIES_COLUMNS,
    DataFileError,
    RunInputs,
    annual_series,
    build_inputs,
    knob_factor,
    load_actor_table,
    read_table,
)
from sim.params import Params, params_from_mapping

# senkaku_china_gov_vessels.csv: contiguous-zone presence days and vessel entries
CZ_DAYS = {2012: 79, 2013: 232, 2016: 211, 2017: 171, 2023: 352, 2024: 355}
CZ_VESSELS = {2010: 47, 2011: 11, 2012: 407, 2013: 819}
# jasdf_scrambles.csv: scrambles against Chinese aircraft per Japanese fiscal year (April-March)
SCRAMBLES_FY = {2009: 38, 2010: 96, 2011: 156, 2012: 306, 2015: 571, 2016: 851, 2023: 479, 2024: 464}
PEAK = 851.0  # FY2016


def turn_of(year: int, quarter: int, start_year: int = 2010) -> int:
    return 4 * (year - start_year) + quarter - 1


@pytest.fixture(scope="module")
def inputs(baseline_params: Params) -> RunInputs:
    return build_inputs(baseline_params)


def test_shapes_on_defaults(inputs: RunInputs) -> None:
    n, t = 15, 84
    assert inputs.n_actors == n and inputs.n_turns == t
    assert inputs.codes[:5] == ("CHN", "JPN", "USA", "RUS", "PRK")
    assert (inputs.china, inputs.us, inputs.focal, inputs.provocateur, inputs.belligerent) == (0, 2, 1, 4, 3)
    for name in ("distance_km", "threat_proximity", "neighbourhood", "is_self", "dispute", "trade_with_engager"):
        assert getattr(inputs, name).shape == (n, n), name
    for name in ("offence", "trade_china", "trade_us", "gdp_start", "alignment_start", "spending_start"):
        assert getattr(inputs, name).shape == (n,), name
    assert inputs.gdp.shape == (t, n)
    assert inputs.ruling.shape == (t, n)
    for series in inputs.drivers.values():
        assert series.level.shape == series.has_data.shape == series.knob.shape == (t,)
    np.testing.assert_array_equal(inputs.year[:5], [2010, 2010, 2010, 2010, 2011])
    np.testing.assert_array_equal(inputs.quarter[:5], [1, 2, 3, 4, 1])
    assert inputs.year[-1] == 2030 and inputs.quarter[-1] == 4
    assert [inputs.codes[k] for k in inputs.region] == [
        "BRN",
        "KHM",
        "IDN",
        "LAO",
        "MYS",
        "MMR",
        "PHL",
        "SGP",
        "THA",
        "VNM",
    ]
    assert [c for c, e in zip(inputs.codes, inputs.is_engager, strict=True) if e] == ["CHN", "JPN", "USA"]
    assert [c for c, e in zip(inputs.codes, inputs.is_pole, strict=True) if e] == ["CHN", "USA"]


def test_static_structure(inputs: RunInputs) -> None:
    np.testing.assert_allclose(inputs.distance_km, inputs.distance_km.T)
    np.testing.assert_array_equal(np.diag(inputs.distance_km), 0.0)
    np.testing.assert_array_equal(np.diag(inputs.trade_with_engager), 0.0)
    np.testing.assert_allclose(inputs.dispute, inputs.dispute.T)
    jpn, chn, usa = inputs.focal, inputs.china, inputs.us
    assert inputs.dispute[jpn, chn] == 1.0  # Senkaku/Diaoyu
    assert inputs.dispute[jpn, usa] == 0.0  # disputes are with the China pole only
    # offence = 1 + omega * nuclear (omega = 2): CHN, USA, RUS, PRK are nuclear
    np.testing.assert_allclose(inputs.offence[:5], [3.0, 1.0, 3.0, 3.0, 3.0])
    # US reach 8000 km: its power arrives undiminished in Tokyo (Honolulu-Tokyo ~6200 km)
    assert inputs.threat_proximity[jpn, usa] == 1.0
    assert inputs.trade_with_engager[chn, jpn] == pytest.approx(0.21)  # JPN's trade share with China


def _index_by_hand(year: int, quarter: int, days: float) -> float:
    fiscal_year = year if quarter >= 2 else year - 1
    return 0.5 * days / 365.0 + 0.5 * SCRAMBLES_FY[fiscal_year] / PEAK


@pytest.mark.parametrize(
    ("year", "quarter"), [(2012, 1), (2012, 2), (2013, 1), (2016, 4), (2017, 1), (2024, 1), (2024, 4)]
)
def test_china_coercion_index_by_hand_with_fiscal_years(inputs: RunInputs, year: int, quarter: int) -> None:
    expected = _index_by_hand(year, quarter, CZ_DAYS[year])
    level = inputs.drivers["china_coercion"].level[turn_of(year, quarter)]
    assert level == pytest.approx(expected, rel=1e-12)
    assert coercion_index(annual_series)[year][quarter] == pytest.approx(expected, rel=1e-12)


def test_china_coercion_index_fiscal_year_mapping_explicit_values() -> None:
    index = coercion_index(annual_series)
    # 2017Q1 (Jan-Mar 2017) lies in FY2016, the scramble peak: 0.5 * 171/365 + 0.5 * 851/851
    assert index[2017][1] == pytest.approx(0.5 * 171 / 365 + 0.5)
    # 2017Q2 starts FY2017 (500 scrambles)
    assert index[2017][2] == pytest.approx(0.5 * 171 / 365 + 0.5 * 500 / 851)
    # 2012Q1 is FY2011 (156); 2012Q2 is FY2012 (306)
    assert index[2012][1] == pytest.approx(0.5 * 79 / 365 + 0.5 * 156 / 851)
    assert index[2012][2] == pytest.approx(0.5 * 79 / 365 + 0.5 * 306 / 851)


def test_china_coercion_index_derives_2010_2011_days_from_vessel_entries() -> None:
    ratio = (CZ_DAYS[2012] + CZ_DAYS[2013]) / (CZ_VESSELS[2012] + CZ_VESSELS[2013])  # 311 / 1226
    index = coercion_index(annual_series)
    assert index[2010][1] == pytest.approx(0.5 * CZ_VESSELS[2010] * ratio / 365 + 0.5 * SCRAMBLES_FY[2009] / PEAK)
    assert index[2011][3] == pytest.approx(0.5 * CZ_VESSELS[2011] * ratio / 365 + 0.5 * SCRAMBLES_FY[2011] / PEAK)


def test_china_coercion_data_end_in_2024(inputs: RunInputs) -> None:
    china = inputs.drivers["china_coercion"]
    last = turn_of(2024, 4)
    assert china.has_data[: last + 1].all()
    assert not china.has_data[last + 1 :].any()
    assert np.all((china.level[: last + 1] > 0) & (china.level[: last + 1] <= 1))


def test_nk_level_is_missiles_and_events_over_twenty(inputs: RunInputs) -> None:
    nk = inputs.drivers["nk_provocation"]
    # nk_missile_launches.csv: 2010 0, 2016 24, 2018 0, 2022 69, 2024 41; nk_provocations_project.csv:
    # two deadly attacks in 2010, two nuclear tests in 2016, each worth 10 launches
    for year, missiles in [(2010, 20), (2016, 44), (2018, 0), (2022, 69), (2024, 41)]:
        for quarter in (1, 4):
            assert nk.level[turn_of(year, quarter)] == pytest.approx(missiles / 20)
            assert nk.has_data[turn_of(year, quarter)]
    assert not nk.has_data[turn_of(2025, 1) :].any()  # 2025 may be a partial year


def test_russia_war_is_zero_before_2022q1_and_one_from_it(inputs: RunInputs) -> None:
    war = inputs.drivers["russia_war"]
    start = turn_of(2022, 1)
    np.testing.assert_array_equal(war.level[:start], 0.0)
    np.testing.assert_array_equal(war.level[start : turn_of(2025, 4) + 1], 1.0)
    assert war.has_data[: turn_of(2025, 4) + 1].all()


def test_us_tech_controls_step_up_in_2022q4(inputs: RunInputs) -> None:
    tech = inputs.tech_controls
    start = turn_of(2022, 4)
    np.testing.assert_allclose(tech.level[:start], 0.2)  # params.policy.us_techcontrol_baseline
    np.testing.assert_array_equal(tech.level[start : turn_of(2025, 4) + 1], 1.0)


def test_china_spending_series_is_sipri_share(inputs: RunInputs) -> None:
    sipri = pd.read_csv(DATA_DIR / "sipri_milex.csv")
    china = sipri[(sipri["country"] == "China") & (sipri["metric"] == "milex_share_gdp")].set_index("year")["value"]
    for year in (2010, 2015, 2020):
        assert inputs.drivers["china_buildup"].level[turn_of(year, 2)] == pytest.approx(float(china[year]))
    assert inputs.drivers["china_buildup"].level[0] == pytest.approx(1.73)


def test_policy_mode_drops_data_except_the_dated_war() -> None:
    inputs = build_inputs(params_from_mapping({"run": {"mode": "policy"}}))
    for name in ("china_coercion", "nk_provocation"):
        assert not inputs.drivers[name].has_data.any(), name
    assert not inputs.tech_controls.has_data.any()
    assert not inputs.drivers["china_buildup"].has_data.any()
    assert inputs.drivers["russia_war"].has_data[turn_of(2022, 1)]


def test_knob_factors_scale_from_from_year_on_and_one_before() -> None:
    params = params_from_mapping(
        {
            "drivers": {
                "nk_provocation": {"scale": 0.3, "from_year": 2015},
                "russia_war": {"scale": 0.0},
                "us_pressure": {"scale": 2.0, "from_year": 2030},
            }
        }
    )
    inputs = build_inputs(params)
    nk = inputs.drivers["nk_provocation"].knob
    np.testing.assert_array_equal(nk[: turn_of(2015, 1)], 1.0)
    np.testing.assert_array_equal(nk[turn_of(2015, 1) :], 0.3)
    np.testing.assert_array_equal(inputs.drivers["russia_war"].knob, 0.0)  # from_year 0: from the start
    us = inputs.drivers["us_pressure"].knob
    np.testing.assert_array_equal(us[: turn_of(2030, 1)], 1.0)
    np.testing.assert_array_equal(us[turn_of(2030, 1) :], 2.0)
    np.testing.assert_array_equal(inputs.tech_controls.knob, us)  # export controls follow the US knob
    np.testing.assert_array_equal(inputs.drivers["china_coercion"].knob, 1.0)
    for name, series in inputs.drivers.items():
        np.testing.assert_array_equal(knob_factor(params.drivers.knob(name), inputs.year, 2010), series.knob)


SIPRI_NAMES = {
    "CHN": "China",
    "JPN": "Japan",
    "USA": "United States",
    "RUS": "Russia",
    "IDN": "Indonesia",
    "MYS": "Malaysia",
    "PHL": "Philippines",
    "SGP": "Singapore",
    "THA": "Thailand",
    "VNM": "Vietnam",
    "KOR": "South Korea",
    "TWN": "Taiwan",
}


def test_actor_gdp_is_sipri_expenditure_over_share() -> None:
    actors = pd.read_csv(DATA_DIR / "actors.csv").set_index("code")
    sipri = pd.read_csv(DATA_DIR / "sipri_milex.csv")
    s2010 = sipri[sipri["year"] == 2010].pivot_table(index="country", columns="metric", values="value", aggfunc="first")
    for code, country in SIPRI_NAMES.items():
        milex_musd = float(s2010.loc[country, "milex_constant_2023usd"])  # USD million, constant 2023
        share = float(s2010.loc[country, "milex_share_gdp"])  # % of GDP
        gdp_bn = milex_musd / share * 100 / 1000
        # actors.csv rounds to 0.1 bn or to 5 significant figures (21046.0 for 21046.06)
        assert actors.loc[code, "gdp_2010_usd_bn"] == pytest.approx(gdp_bn, rel=2.5e-5, abs=0.05 + 1e-9), code
        assert actors.loc[code, "milex_share_gdp_2010"] == pytest.approx(share, abs=1e-9), code


def _sipri_gdp(country: str, year: int) -> float:
    """Hand derivation of real GDP from the SIPRI file: constant-dollar expenditure over its share."""
    sipri = pd.read_csv(DATA_DIR / "sipri_milex.csv")
    rows = sipri[(sipri["country"] == country) & (sipri["year"] == year)].set_index("metric")["value"]
    return float(rows["milex_constant_2023usd"]) / float(rows["milex_share_gdp"]) * 100


def test_gdp_path_follows_sipri_to_its_last_year_then_grows_at_its_rate(inputs: RunInputs) -> None:
    actors = pd.read_csv(DATA_DIR / "actors.csv").set_index("code")
    jpn, khm = inputs.focal, inputs.codes.index("KHM")
    np.testing.assert_allclose(inputs.gdp[0], inputs.gdp_start)
    # Observed years: the 2010 value times SIPRI's real GDP relative to 2010.
    for year in (2015, 2021):
        ratio = _sipri_gdp("Japan", year) / _sipri_gdp("Japan", 2010)
        assert inputs.gdp[turn_of(year, 1), jpn] == pytest.approx(inputs.gdp_start[jpn] * ratio)
    # Between observed years: log-linear (2015Q3 is the geometric mean of 2015 and 2016).
    mid = np.sqrt(inputs.gdp[turn_of(2015, 1), jpn] * inputs.gdp[turn_of(2016, 1), jpn])
    assert inputs.gdp[turn_of(2015, 3), jpn] == pytest.approx(mid)
    # After Japan's last observed year (2021): the constant rate of the attribute file.
    growth = actors.loc["JPN", "gdp_growth_per_year"]
    assert inputs.gdp[turn_of(2030, 1), jpn] == pytest.approx(inputs.gdp[turn_of(2021, 1), jpn] * (1 + growth) ** 9)
    # Vietnam's SIPRI share ends in 2018: constant growth from there.
    vnm = inputs.codes.index("VNM")
    g_vnm = actors.loc["VNM", "gdp_growth_per_year"]
    assert inputs.gdp[turn_of(2020, 1), vnm] == pytest.approx(inputs.gdp[turn_of(2018, 1), vnm] * (1 + g_vnm) ** 2)
    # A state without SIPRI series (Cambodia) grows at its constant rate from 2010.
    g_khm = actors.loc["KHM", "gdp_growth_per_year"]
    assert inputs.gdp[turn_of(2030, 1), khm] == pytest.approx(inputs.gdp_start[khm] * (1 + g_khm) ** 20)


def test_ceiling_blank_means_none(inputs: RunInputs) -> None:
    assert inputs.ceiling_start[inputs.focal] == 1.0  # Japan's 1% norm
    assert np.isinf(inputs.ceiling_start[inputs.china])


# ----------------------------------------------------------------------------------------------
# The scenario's dated events
# ----------------------------------------------------------------------------------------------


def extra(inputs: RunInputs, turn: int, driver: str = "china_coercion") -> np.ndarray:
    """The unscaled extra coercion of ``driver``'s events at ``turn`` (zeros if none)."""
    n = inputs.n_actors
    return inputs.extra_coercion.get(turn, {}).get(driver, np.zeros((n, n)))


def event_coercion(inputs: RunInputs, params: Params, turn: int) -> np.ndarray:
    """The events' coercion at ``turn`` as the drivers apply it (knobs included), one run."""
    levels = driver_levels(inputs, params.params.policy, turn, inputs.alignment_start[None, :])
    n = inputs.n_actors
    return np.zeros((n, n)) if levels.event_coercion is None else levels.event_coercion[0]


def test_baseline_events_become_extra_coercion_and_a_ruling(inputs: RunInputs) -> None:
    c = inputs.codes.index
    adiz = turn_of(2013, 4)
    assert extra(inputs, adiz)[c("CHN"), c("JPN")] == pytest.approx(0.5)  # ADIZ shock (KOR, TWN dropped)
    campaign = [k for k in range(inputs.n_turns) if extra(inputs, k)[c("CHN"), c("PHL")] > 0]
    # Spratly building: 2013Q4 .. 2016Q4, plus the 2021Q1 coast guard law shock
    assert campaign == [*range(adiz, turn_of(2016, 4) + 1), turn_of(2021, 1)]
    assert extra(inputs, turn_of(2015, 2))[c("CHN"), c("BRN")] == pytest.approx(0.5)
    assert extra(inputs, turn_of(2022, 3))[c("CHN"), c("JPN")] == pytest.approx(1.0)
    for by_driver in inputs.extra_coercion.values():
        assert set(by_driver) == {"china_coercion"}  # every coercive event of the baseline is China's
        for matrix in by_driver.values():
            np.testing.assert_array_equal(np.delete(matrix, c("CHN"), axis=0), 0.0)  # only China coerces
    ruling = inputs.ruling[:, c("CHN")]
    np.testing.assert_array_equal(ruling[: turn_of(2016, 3)], 0.0)
    np.testing.assert_array_equal(ruling[turn_of(2016, 3) :], 1.0)
    np.testing.assert_array_equal(np.delete(inputs.ruling, c("CHN"), axis=1), 0.0)


def test_events_apply_at_full_size_in_the_baseline(inputs: RunInputs, baseline_params: Params) -> None:
    for turn in sorted(inputs.extra_coercion):
        np.testing.assert_allclose(event_coercion(inputs, baseline_params, turn), extra(inputs, turn))
    assert event_coercion(inputs, baseline_params, turn_of(2013, 3)).sum() == 0.0  # no event that quarter


def test_events_scaled_by_their_driver_knob(no_coercion_params: Params) -> None:
    inputs = build_inputs(no_coercion_params)
    assert inputs.extra_coercion  # the events are there ...
    for turn in inputs.extra_coercion:
        np.testing.assert_array_equal(event_coercion(inputs, no_coercion_params, turn), 0.0)  # ... at scale 0
    assert inputs.ruling[-1, inputs.china] == 1.0  # the ruling has no driver: it stays


def test_events_scaled_only_from_from_year() -> None:
    params = compose_params(["drivers.china_coercion.scale=0", "drivers.china_coercion.from_year=2015"])
    inputs = build_inputs(params)
    c = inputs.codes.index
    assert event_coercion(inputs, params, turn_of(2014, 4))[c("CHN"), c("PHL")] == pytest.approx(0.5)
    assert event_coercion(inputs, params, turn_of(2015, 1))[c("CHN"), c("PHL")] == 0.0
    half = compose_params(["drivers.china_coercion.scale=0.5"])
    assert event_coercion(build_inputs(half), half, turn_of(2022, 3))[c("CHN"), c("JPN")] == pytest.approx(0.5)


def test_extended_actor_set_keeps_event_targets_it_simulates() -> None:
    inputs = build_inputs(compose_params(["actors=extended"]))
    c = inputs.codes.index
    adiz = extra(inputs, turn_of(2013, 4))
    for target in ("JPN", "KOR", "TWN"):
        assert adiz[c("CHN"), c(target)] == pytest.approx(0.5), target


def test_event_naming_an_actor_without_attributes_is_a_key_error() -> None:
    event = {"kind": "intent_shock", "actor": "CHN", "target": "ATL", "year": 2015, "size": 1.0}
    with pytest.raises(KeyError, match="ATL") as info:
        build_inputs(params_from_mapping({"scenario": {"events": [event]}}))
    assert "allowed" in str(info.value)


def test_ruling_dated_before_the_run_start_applies_from_the_first_turn() -> None:
    inputs = build_inputs(compose_params(["run.start_year=2017"]))
    np.testing.assert_array_equal(inputs.ruling[:, inputs.china], 1.0)


def test_campaign_running_across_the_run_start_applies_for_its_remaining_turns() -> None:
    inputs = build_inputs(compose_params(["run.start_year=2015"]))
    c = inputs.codes.index
    for turn in range(turn_of(2016, 4, start_year=2015) + 1):
        assert extra(inputs, turn)[c("CHN"), c("PHL")] == pytest.approx(0.5)


# ----------------------------------------------------------------------------------------------
# Bad actors and bad files
# ----------------------------------------------------------------------------------------------


def test_unknown_actor_code_is_a_key_error_naming_it_and_the_allowed_codes() -> None:
    params = params_from_mapping({"actors": {"codes": ["CHN", "JPN", "USA", "RUS", "PRK", "XXX"], "region": []}})
    with pytest.raises(KeyError) as info:
        build_inputs(params)
    message = str(info.value)
    assert "XXX" in message
    for code in ("CHN", "VNM", "KOR"):
        assert code in message


def _write_actors(tmp_path: Path, edit: Any) -> Path:
    frame = pd.read_csv(DATA_DIR / "actors.csv", dtype=str, keep_default_na=False)
    frame = edit(frame)
    path = tmp_path / "bad_actors.csv"
    frame.to_csv(path, index=False)
    return path


def _params_for(path: Path) -> Params:
    return params_from_mapping({"actors": {"attributes_file": str(path)}})


def _set(code: str, column: str, value: str) -> Any:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["code"] == code, column] = value
        return frame

    return edit


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        (lambda f: f.drop(columns=["reach_km"]), "reach_km"),
        (_set("JPN", "gdp_2010_usd_bn", "n/a"), "gdp_2010_usd_bn"),
        (_set("VNM", "trade_share_china", ""), "trade_share_china"),
        (_set("JPN", "alignment_2010", "1.5"), "alignment_2010"),
        (_set("PHL", "lockin_2010", "-0.1"), "lockin_2010"),
        (_set("KHM", "milex_share_gdp_2010", "0"), "milex_share_gdp_2010"),
        (_set("SGP", "ref_lat", "95"), "ref_lat"),
    ],
)
def test_malformed_actor_file_is_a_data_file_error_naming_file_and_column(
    tmp_path: Path, edit: Any, column: str
) -> None:
    path = _write_actors(tmp_path, edit)
    with pytest.raises(DataFileError) as info:
        build_inputs(_params_for(path))
    assert str(path) in str(info.value)
    assert column in str(info.value)


def test_non_numeric_spending_ceiling_is_a_data_file_error(tmp_path: Path) -> None:
    path = _write_actors(tmp_path, _set("JPN", "spending_ceiling_share_gdp", "one percent"))
    with pytest.raises(DataFileError, match="spending_ceiling_share_gdp"):
        build_inputs(_params_for(path))


def test_duplicate_actor_row_is_a_data_file_error(tmp_path: Path) -> None:
    path = _write_actors(tmp_path, lambda f: pd.concat([f, f[f["code"] == "JPN"]]))
    with pytest.raises(DataFileError, match="duplicate"):
        load_actor_table(_params_for(path))


def test_missing_and_empty_files_are_data_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(DataFileError, match="does not exist") as info:
        build_inputs(_params_for(missing))
    assert str(missing) in str(info.value)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFileError, match=str(empty)):
        build_inputs(_params_for(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(pd.read_csv(DATA_DIR / "actors.csv").columns) + "\n")
    with pytest.raises(DataFileError, match="no rows"):
        build_inputs(_params_for(header_only))


def test_a_valid_copy_of_the_attribute_file_by_absolute_path_gives_the_same_inputs(tmp_path: Path) -> None:
    path = _write_actors(tmp_path, lambda f: f)
    a, b = build_inputs(Params()), build_inputs(_params_for(path))
    np.testing.assert_array_equal(a.gdp, b.gdp)
    np.testing.assert_array_equal(a.alignment_start, b.alignment_start)
    np.testing.assert_array_equal(a.ceiling_start, b.ceiling_start)


def test_read_table_cache_follows_the_content_and_hands_out_copies(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("year,country,metric,value\n2010,JPN,x,1.0\n")
    first = read_table(str(path), ("year", *SERIES_COLUMNS))
    first.loc[0, "value"] = 99.0  # a caller's edit must not reach the next caller
    assert read_table(str(path), ("year", *SERIES_COLUMNS))["value"].tolist() == [1.0]
    path.write_text("year,country,metric,value\n2010,JPN,x,2.0\n")  # same name, new content
    assert read_table(str(path), ("year", *SERIES_COLUMNS))["value"].tolist() == [2.0]
    path.write_text("year,country\n2010,JPN\n")
    with pytest.raises(DataFileError, match="lacks column"):
        read_table(str(path), ("year", *SERIES_COLUMNS))


def test_commitments_count_from_their_quarter_in_both_directions(inputs: RunInputs) -> None:
    # commitments.csv, defence treaties (the default kinds): CHN-PRK 1961-07-11, RUS-PRK 2024-06-19,
    # USA-JPN, USA-PHL, USA-THA (before 2010); the consultation pacts and the 2022 statement do not count
    c = {code: k for k, code in enumerate(inputs.codes)}
    m = inputs.commitment
    assert m.shape == (inputs.n_turns, inputs.n_actors, inputs.n_actors)
    np.testing.assert_array_equal(m, np.swapaxes(m, 1, 2))
    for a, b in [("CHN", "PRK"), ("USA", "JPN"), ("USA", "PHL"), ("USA", "THA")]:
        np.testing.assert_array_equal(m[:, c[a], c[b]], 1.0)
    assert m[turn_of(2024, 1), c["RUS"], c["PRK"]] == 0.0 and m[turn_of(2024, 2), c["PRK"], c["RUS"]] == 1.0
    assert not m[:, c["CHN"], c["RUS"]].any()
    assert m[-1].sum() == 2 * 5 and not np.diagonal(m, axis1=1, axis2=2).any()


def test_commitment_kinds_select_rows_and_absent_actors_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    rows = [
        "a,b,since,kind",
        "CHN,RUS,2001-07-16,consultation",
        "RUS,PRK,2010-05-31,mutual_defence",  # quarter 2
        "KOR,USA,1953-10-01,mutual_defence",  # KOR is not in the default actor set
    ]
    (folder / "commitments.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(sim_inputs, "DATA_DIR", folder)
    codes = ("CHN", "RUS", "PRK", "USA")
    index = {c: k for k, c in enumerate(codes)}
    year, quarter = np.repeat([2010, 2011], 4), np.tile([1, 2, 3, 4], 2)
    known = {"CHN", "RUS", "PRK", "USA", "KOR"}
    defence = sim_inputs.commitment_matrix(index, known, ("mutual_defence",), year, quarter)
    np.testing.assert_array_equal(defence[:, 1, 2], [0, 1, 1, 1, 1, 1, 1, 1])
    assert defence.sum() == 2 * 7
    both = sim_inputs.commitment_matrix(index, known, ("mutual_defence", "consultation"), year, quarter)
    np.testing.assert_array_equal(both[:, 0, 1], 1.0)
    assert both.sum() == 2 * 7 + 2 * 8


def test_a_commitment_naming_an_unknown_actor_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    frame = pd.read_csv(folder / "commitments.csv")
    frame.loc[0, "b"] = "XXX"
    frame.to_csv(folder / "commitments.csv", index=False)
    monkeypatch.setattr(sim_inputs, "DATA_DIR", folder)
    with pytest.raises(DataFileError, match=r"commitments.csv names actor\(s\) \['XXX'\].*allowed"):
        build_inputs(compose_params([]))


def test_the_spin_up_holds_north_koreas_mean_of_the_years_before_the_start(inputs: RunInputs) -> None:
    # 2005-2009: 0, 7 + a nuclear test, 0, 0, 8 + a nuclear test launch-equivalents (a test = 10)
    nk = inputs.drivers["nk_provocation"]
    assert nk.spin_up_level == pytest.approx((0 + 17 + 0 + 0 + 18) / 5 / 20)
    spun = sim_inputs.spin_up_inputs(inputs)
    assert spun.drivers["nk_provocation"].level[0] == pytest.approx(0.35)
    np.testing.assert_array_equal(spun.drivers["nk_provocation"].level[1:], nk.level[1:])
    assert nk.level[0] == pytest.approx(1.0)  # the run itself keeps 2010's own level
    for name, series in inputs.drivers.items():
        if name != "nk_provocation":
            assert series.spin_up_level is None and spun.drivers[name] is series
    policy = build_inputs(compose_params(["run.mode=policy"]))
    assert policy.drivers["nk_provocation"].spin_up_level is None  # no data at the start: the policy level
