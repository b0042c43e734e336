"""The ICU central station as a nurse sees it: real tiles, real pyqtgraph, offscreen."""

import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.monitoring import (
    Latest,
    News2Out,
    Station,
    StationBed,
    StationPatient,
    Trends,
    event,
)
from hms_desktop.monitoring.alarm_style import RED, TECH_BG
from hms_desktop.monitoring.bed_tile import NEWS2_COLOURS
from hms_desktop.monitoring.buffers import SweepBuffer
from hms_desktop.monitoring.feed import parse_frame
from hms_desktop.monitoring.station_grid import StationView, grid_shape
from hms_desktop.monitoring.sweep_widget import SweepWidget
from hms_desktop.monitoring.trend_view import LimitsDialog, TrendView, with_gaps
from tests.desktop.helpers import shots_dir

WARD = uuid.uuid4()
NAMES = [
    ("OKAFOR, Chidi", "1000017"),
    ("OKORO, Ngozi", "1000025"),
    ("OKONKWO, Emeka", "1000033"),
    ("ADEYEMI, Oluwaseun", "1000041"),
]


def make_station(beds: int, empty: tuple[int, ...] = ()) -> Station:
    """A ward of `beds` beds, each with a patient except those in `empty` (1-based)."""
    now = datetime.now(UTC)
    rows = []
    for n in range(1, beds + 1):
        name, mrn = NAMES[(n - 1) % len(NAMES)]
        patient = None
        if n not in empty:
            patient = StationPatient(id=uuid.uuid4(), mrn=f"{mrn}{n:02d}", name=name, age=40 + n)
        rows.append(
            StationBed(
                bed_id=uuid.uuid4(),
                label=f"ICU-{n:02d}",
                device_id=f"MON-ICU-{n:02d}",
                admission_id=uuid.uuid4() if patient else None,
                patient=patient,
                limits=AlarmLimits(),
                latest={"hr": Latest(value=72, at=now), "spo2": Latest(value=97, at=now)},
            )
        )
    return Station(
        ward_id=WARD, ward_code="ICU", ward_name="Intensive Care", beds=rows, server_time=now
    )


def vitals(bed: StationBed, values: dict, artefacts: tuple[str, ...] = ()) -> dict:
    """A `vitals` event as the server sends it."""
    return event(
        "vitals",
        WARD,
        bed_id=str(bed.bed_id),
        patient_id=str(bed.patient.id) if bed.patient else None,
        device_id=bed.device_id,
        at=datetime.now(UTC).isoformat(),
        received=time.time(),
        values=values,
        artefacts=list(artefacts),
    )


def wave(bed: StationBed, seconds: float = 1.0, hz: int = 250) -> dict:
    t = np.arange(int(seconds * hz)) / hz
    samples = 1.2 * np.exp(-(((t % 0.8) - 0.1) ** 2) / 0.0002) - 0.1
    return event(
        "wave",
        WARD,
        bed_id=str(bed.bed_id),
        patient_id=str(bed.patient.id) if bed.patient else None,
        device_id=bed.device_id,
        lead="II",
        hz=hz,
        at=datetime.now(UTC).isoformat(),
        received=time.time(),
        samples=[round(float(s), 3) for s in samples],
    )


def alarm(bed: StationBed, priority: str = "high", kind: str = "clinical", **extra) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "patient_id": str(bed.patient.id) if bed.patient else None,
        "bed_id": str(bed.bed_id),
        "kind": kind,
        "priority": priority,
        "parameter": "hr",
        "condition": "high" if kind == "clinical" else "sensor_off",
        "message": "HR high 165 (limit 120)" if kind == "clinical" else "SpO₂ sensor off",
        "value": 165,
        "limit": 120,
        "started_at": datetime.now(UTC).isoformat(),
        "ended_at": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "silenced_until": None,
        "silenced_by": None,
        **extra,
    }
    return event("alarm", WARD, alarm=body)


def news2(bed: StationBed, total: int, band: str) -> dict:
    score = News2Out(total=total, band=band, red_score=False, computed_at=datetime.now(UTC))
    return event("news2", WARD, bed_id=str(bed.bed_id), score=score.model_dump(mode="json"))


@pytest.fixture
def view(qtbot, qapp) -> StationView:
    station = StationView()
    qtbot.addWidget(station)
    station.resize(1600, 900)
    station.show()
    return station


def frames(qtbot, view: StationView, count: int = 3) -> None:
    """Let the station draw `count` frames."""
    view.start()
    target = view.frames + count
    qtbot.waitUntil(lambda: view.frames >= target, timeout=5_000)


def save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    assert widget.grab().save(str(path))


def inside(widget: QWidget, outer: QWidget) -> bool:
    top_left = widget.mapTo(outer, QPoint(0, 0))
    return QRect(QPoint(0, 0), outer.size()).contains(QRect(top_left, widget.size()))


def test_tile_shows_patient_and_numbers(qtbot, view):
    station = make_station(8, empty=(8,))
    view.load_station(station)
    bed = station.beds[0]
    tile = view.tile_for("ICU-01")
    assert tile.patient_label.text() == "OKAFOR, Chidi"
    assert tile.mrn_label.text() == f"MRN {bed.patient.mrn}"
    assert view.tile_for("ICU-08").patient_label.text() == "No patient"

    view.handle_events(
        [
            vitals(
                bed,
                {
                    "hr": 88,
                    "spo2": 95,
                    "nibp_sys": 121,
                    "nibp_dia": 79,
                    "nibp_mean": 93,
                    "rr": 17,
                    "temp": 37.24,
                },
            )
        ]
    )
    frames(qtbot, view)
    shown = {key: n.value.text() for key, n in tile.numerics.items()}
    assert shown == {"hr": "88", "spo2": "95", "nibp": "121/79 (93)", "rr": "17", "temp": "37.2"}
    assert len(view.latencies) >= 1 and 0 <= view.latencies[-1] < 5

    view.handle_events([vitals(bed, {"hr": 90, "spo2": 0}, artefacts=("hr",))])
    frames(qtbot, view)
    assert tile.numerics["hr"].value.text() == "---"  # artefact
    assert tile.numerics["spo2"].value.text() == "---"  # 0 = sensor off
    assert not tile.numerics["hr"].usable

    unassigned = station.beds[7]
    view.handle_events([vitals(unassigned, {"hr": 60})])
    assert view.tile_for("ICU-08").patient_label.text() == "Unassigned monitor"


def test_stale_values_dim(qtbot, view):
    station = make_station(4)
    old = datetime.now(UTC) - timedelta(seconds=90)
    station.beds[0].latest = {"hr": Latest(value=70, at=old)}
    view.load_station(station)
    frames(qtbot, view)
    assert view.tile_for("ICU-01").numerics["hr"].value.text() == "---"
    assert view.tile_for("ICU-02").numerics["hr"].value.text() == "72"


def test_high_alarm_flashes_red_and_technical_is_blue(qtbot, view, tmp_path):
    station = make_station(8)
    view.load_station(station)
    bed = station.beds[0]
    view.handle_events([vitals(bed, {"hr": 165, "spo2": 96}), alarm(bed, "high")])
    tile = view.tile_for("ICU-01")
    assert tile.alarm_row.isVisible()
    assert "HR high 165" in tile.alarm_label.text()
    assert tile.look is not None and tile.look.background == RED and tile.look.period == 0.5
    states: set[bool] = set()

    def seen_both() -> bool:
        view.tick()
        states.add(tile.flash_on)
        return states == {True, False}

    view.start()
    qtbot.waitUntil(seen_both, timeout=3_000)
    assert tile.flash_toggles >= 1
    qtbot.waitUntil(lambda: tile.flash_on, timeout=2_000)
    assert RED in tile.header.styleSheet()
    tile.sweep.write(np.asarray(wave(bed, 5.0)["samples"]))
    view.handle_events([news2(bed, 7, "high")])
    tile.resize(520, 340)
    frames(qtbot, view)
    qtbot.waitUntil(lambda: tile.flash_on, timeout=2_000)
    view.stop()
    save(tile, shots_dir(tmp_path) / "icu_alarm_tile.png")
    view.start()

    other = station.beds[1]
    view.handle_events([alarm(other, "low", kind="technical")])
    tech_tile = view.tile_for("ICU-02")
    assert tech_tile.look is None  # no clinical colour for an equipment problem
    assert tech_tile.tech_label.isVisible() and "sensor off" in tech_tile.tech_label.text()
    assert TECH_BG in tech_tile.tech_label.styleSheet()
    assert RED not in tech_tile.header.styleSheet()

    assert view.sounder.sounding == "high" and view.sounder.beeps == 0  # sound is off by default
    view.sounder.set_enabled("high", True)
    assert view.sounder.beeps >= 1
    qtbot.waitUntil(lambda: view.sounder.pulses >= 10, timeout=5000)  # high: a ten-pulse burst
    view.sounder.set_enabled("high", False)
    pulses = view.sounder.pulses
    qtbot.wait(700)
    assert view.sounder.pulses == pulses  # turned off: nothing more sounds

    menu = tile.context_menu()
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Acknowledge alarm",
        "Silence 2 min",
        "Open trends and alarm history",
    ]
    with qtbot.waitSignal(view.bed_opened) as opened:
        qtbot.mouseDClick(tile, Qt.MouseButton.LeftButton, pos=QPoint(20, 60))
    assert opened.args[0].label == "ICU-01"
    with qtbot.waitSignal(view.acknowledge_requested) as ack:
        tile.ack_button.click()
    assert ack.args[0] == tile.active_alarm().id
    with qtbot.waitSignal(view.silence_requested) as silence:
        tile.silence_button.click()
    assert silence.args[1] == 2

    acknowledged = alarm(bed, "high", acknowledged_at=datetime.now(UTC).isoformat())
    acknowledged["alarm"]["id"] = str(tile.active_alarm().id)
    view.handle_events([acknowledged])
    assert tile.look.period == 0  # acknowledged: steady, no flashing


def test_news2_band_colours(view):
    station = make_station(4)
    view.load_station(station)
    bed = station.beds[0]
    tile = view.tile_for("ICU-01")
    view.handle_events([news2(bed, 7, "high")])
    assert tile.news2_label.text() == "NEWS2 7"
    assert NEWS2_COLOURS["high"][0] in tile.news2_label.styleSheet()
    view.handle_events([news2(bed, 5, "medium")])
    assert NEWS2_COLOURS["medium"][0] in tile.news2_label.styleSheet()
    view.handle_events([news2(bed, 3, "low-medium")])
    assert NEWS2_COLOURS["low-medium"][0] in tile.news2_label.styleSheet()


@pytest.mark.parametrize("beds", [8, 32])
def test_grid_fits_every_bed(qtbot, view, tmp_path, beds):
    view.set_beds_per_screen(32)
    station = make_station(beds, empty=(beds,))
    view.load_station(station)
    for i, bed in enumerate(station.beds[:-1]):
        hz = 250
        view.handle_events([wave(bed, 2.0, hz)])
        values = {
            "hr": 60 + i,
            "spo2": 93 + i % 7,
            "nibp_sys": 110 + i,
            "nibp_dia": 70,
            "nibp_mean": 85,
            "rr": 14 + i % 9,
            "temp": 36.6,
        }
        view.handle_events([vitals(bed, values)])
        view.handle_events(
            [news2(bed, i % 9, ["low", "low", "low-medium", "medium", "high"][min(i % 9 // 2, 4)])]
        )
    view.handle_events([alarm(station.beds[2], "high"), alarm(station.beds[3], "medium")])
    view.handle_events([alarm(station.beds[4], "low", kind="technical")])
    for i, tile in enumerate(view.tiles.values()):  # ten minutes of history, a full sweep
        if tile.bed.patient is not None:
            t0 = time.time() - 600
            tile.trends["hr"].extend(
                [(t0 + s, 70 + i + 8 * math.sin(s / 90)) for s in range(0, 600, 5)]
            )
            tile.trends["spo2"].extend(
                [(t0 + s, 95 + 2 * math.cos(s / 120)) for s in range(0, 600, 5)]
            )
            tile.sweep.write(np.asarray(wave(tile.bed, 5.0)["samples"]))
    view.resize(1920, 1040)
    view.start()
    qtbot.waitUntil(lambda: view.tile_for("ICU-01").sweep.total >= 250, timeout=5_000)
    QApplication.processEvents()
    for tile in view.tiles.values():
        assert tile.isVisible(), tile.bed.label
        assert inside(tile, view), tile.bed.label
        assert tile.numerics["hr"].value.height() >= 14
    cols, rows = view._shape
    assert cols * rows >= beds
    save(view, shots_dir(tmp_path) / f"icu_station_{beds}.png")

    view.resize(1000, 700)  # a smaller screen: still every bed, still inside
    QApplication.processEvents()
    assert all(inside(t, view) for t in view.tiles.values())

    view.set_beds_per_screen(4)
    QApplication.processEvents()
    assert view.page_count == math.ceil(beds / 4)
    assert sum(t.isVisible() for t in view.tiles.values()) == 4


def test_ecg_sweep_draws_samples(qtbot, view):
    station = make_station(4)
    view.load_station(station)
    tile = view.tile_for("ICU-01")
    view.handle_events([wave(station.beds[0], 1.0)])
    view.start()
    qtbot.waitUntil(lambda: tile.sweep.total >= 200, timeout=5_000)
    frames(qtbot, view)
    y = tile.ecg.samples()
    assert np.isfinite(y).sum() >= 200
    assert np.nanmax(y) > 1.0  # the R waves are there
    image = tile.ecg.grab().toImage()
    green = [
        x
        for x in range(image.width())
        if any(image.pixelColor(x, r).green() > 60 for r in range(image.height()))
    ]
    assert len(green) >= image.width() * 200 / tile.sweep.size - 2  # the trace is on screen


def sweep_widget(qtbot, size: tuple[int, int] = (300, 120)) -> SweepWidget:
    widget = SweepWidget(SweepBuffer(hz=250, seconds=6.0), "#3ee06b", "#0b0f12")
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def ecg_samples(count: int, start: int = 0) -> np.ndarray:
    t = (np.arange(count) + start) / 250
    return 1.2 * np.exp(-(((t % 0.8) - 0.1) ** 2) / 0.0002) - 0.1 + 0.05 * np.sin(t * 7)


def test_sweep_widget_increments_match_a_full_redraw(qtbot):
    """Frame by frame, past two wraps: the picture is what a redraw from the buffer gives."""
    widget = sweep_widget(qtbot)
    buffer, sent = widget.buffer, 0
    for frame in range(400):  # 8 or 9 samples a frame, 13.6 s: the sweep wraps twice
        n = 8 + frame % 3 // 2
        buffer.write(ecg_samples(n, sent))
        sent += n
        widget.refresh()
    assert widget.strips >= 399 and widget.full_redraws <= 2
    incremental = green_channel(widget.grab().toImage())
    widget.redraw()
    full = green_channel(widget.grab().toImage())
    assert incremental.shape == full.shape
    assert np.abs(incremental - full).max() <= 24  # no smear, no stale segment (only rounding)
    gap = widget._column(buffer.pos + 2)  # the erase gap just ahead of the writing point
    assert incremental[:, gap].max() < 40  # background only
    assert incremental[:, widget._column(buffer.pos - 30)].max() > 60  # the newest samples


def green_channel(image: QImage) -> np.ndarray:
    """The green of every pixel, rows x columns."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(bytes(image.constBits()), np.uint8)
    pixels = raw.reshape(image.height(), image.bytesPerLine() // 4, 4)
    return pixels[:, : image.width(), 1].astype(int)


def test_sweep_widget_repaints_only_the_new_strip(qtbot):
    widget = sweep_widget(qtbot)
    widget.buffer.write(ecg_samples(700))
    widget.refresh()
    qtbot.wait(50)  # the first full paint is done
    painted: list[QRect] = []

    class Spy(QObject):
        def eventFilter(self, _obj, event):  # noqa: ANN001, ANN202, N802
            if event.type() == QEvent.Type.Paint:
                painted.append(event.rect())
            return False

    spy = Spy()
    widget.installEventFilter(spy)
    widget.buffer.write(ecg_samples(8, 700))
    widget.refresh()
    qtbot.waitUntil(lambda: bool(painted), timeout=2_000)
    strip = painted[-1]
    assert strip.height() == widget.height()
    assert strip.width() <= widget.width() * (8 + widget.buffer.gap + 8) / widget.buffer.size + 3
    widget.refresh()  # nothing new: nothing repainted
    count = len(painted)
    qtbot.wait(50)
    assert len(painted) == count


def test_sweep_widget_blank_for_missing_samples_and_after_clear(qtbot):
    widget = sweep_widget(qtbot)
    samples = ecg_samples(1000)
    samples[300:500] = np.nan  # lead off for 0.8 s
    widget.buffer.write(samples)
    widget.refresh()
    image = widget.grab().toImage()

    def lit(x: int) -> bool:
        return any(image.pixelColor(x, y).green() > 60 for y in range(image.height()))

    hole = range(widget._column(302), widget._column(498))
    assert hole and not any(lit(x) for x in hole)
    assert lit(widget._column(100)) and lit(widget._column(700))
    widget.buffer.clear()
    widget.refresh()
    image = widget.grab().toImage()
    assert not any(lit(x) for x in range(image.width()))
    widget.resize(500, 200)  # a resize redraws from the buffer at the new size
    qtbot.waitUntil(lambda: widget._w == 500, timeout=2_000)
    widget.buffer.write(ecg_samples(600))
    widget.refresh()
    image = widget.grab().toImage()
    assert image.width() == 500 and lit(widget._column(widget.buffer.pos - 100))


def test_sweep_overwrites_from_left_with_gap():
    sweep = SweepBuffer(hz=100, seconds=1.0)
    sweep.write(np.ones(80))
    sweep.write(np.full(40, 2.0))  # wraps: 20 at the end, 20 from the left
    assert sweep.pos == 20
    assert np.all(sweep.y[:20] == 2.0)
    assert np.all(np.isnan(sweep.y[20:40]))  # the gap ahead of the writing point
    assert np.all(sweep.y[40:80] == 1.0) and np.all(sweep.y[80:] == 2.0)


def test_frame_parsing_accepts_objects_and_lists():
    assert parse_frame('{"type":"vitals","bed_id":"x"}')[0]["type"] == "vitals"
    assert [e["type"] for e in parse_frame('[{"type":"wave"},{"type":"alarm"}, 3]')] == [
        "wave",
        "alarm",
    ]
    assert parse_frame("not json") == []


def test_grid_shape_prefers_wide_tiles():
    assert grid_shape(8, 1920, 1040) == (4, 2)
    cols, rows = grid_shape(32, 1920, 1040)
    assert cols > rows and 32 <= cols * rows <= 35
    assert grid_shape(4, 1920, 1040) == (2, 2)


def test_trend_view_and_limits_editor(qtbot, tmp_path):
    station = make_station(2)
    bed = station.beds[0]
    detail = TrendView()
    qtbot.addWidget(detail)
    detail.resize(1400, 900)
    detail.show()
    detail.open_bed(bed)
    now = time.time()
    t = np.arange(now - 4 * 3600, now, 60.0)
    series = {
        "hr": list(zip(t, 80 + 10 * np.sin(t / 900), strict=True)),
        "spo2": list(zip(t, 96 + np.cos(t / 1200), strict=True)),
        "nibp_sys": list(zip(t[::15], 120 + 5 * np.sin(t[::15] / 3000), strict=True)),
        "nibp_dia": list(zip(t[::15], 75 + 3 * np.sin(t[::15] / 3000), strict=True)),
        "rr": list(zip(t, 16 + 2 * np.sin(t / 600), strict=True)),
        "temp": list(zip(t, 37 + 0.3 * np.sin(t / 5000), strict=True)),
    }
    detail.show_trends(
        Trends(
            patient_id=bed.patient.id,
            since=datetime.fromtimestamp(now - 4 * 3600, UTC),
            until=datetime.fromtimestamp(now, UTC),
            series=series,
        )
    )
    history = [
        alarm(bed, "high")["alarm"],
        alarm(bed, "medium", ended_at=datetime.now(UTC).isoformat())["alarm"],
    ]
    from hms_core.schemas.monitoring import AlarmOut

    detail.show_alarms([AlarmOut.model_validate(a) for a in history])
    assert detail.alarm_model.rowCount() == 2
    assert detail.ack_button.isEnabled()
    x, _y = detail.curves["hr"].getData()
    assert len(x) == len(t)
    save(detail, shots_dir(tmp_path) / "icu_trend_view.png")

    saved = []

    def save_limits(limits, done, failed):  # noqa: ANN001, ANN202
        saved.append(limits)
        done(limits)

    dialog = LimitsDialog(bed.limits, save_limits, bed.label)
    qtbot.addWidget(dialog)
    dialog.spins["hr_low"].setValue(130)
    dialog.submit()
    assert dialog.error_label.text() == "Heart rate: the low limit must be below the high limit."
    assert saved == []  # nothing half-saved
    dialog.spins["hr_low"].setValue(45)
    assert dialog.delays["spo2"].value() == 15  # the adult default delay
    dialog.delays["spo2"].setValue(30)  # a restless patient: wait longer before alarming
    dialog.no_data.setValue(60)
    with qtbot.waitSignal(dialog.saved):
        dialog.submit()
    assert saved[0].hr_low == 45
    assert saved[0].delay("spo2") == 30 and saved[0].delay("hr") == 10
    assert saved[0].no_data_seconds == 60


# --- against the real server ------------------------------------------------------------------


def test_workspace_loads_the_ward_and_follows_the_live_feed(
    qtbot, controller, live_server, tmp_path
):
    from hms_core.db import AlarmEvent
    from hms_desktop.workspaces.icu.workspace import IcuWorkspace
    from hms_server.monitoring.publish import publish_monitor
    from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, sign_in
    from tests.server.icu_helpers import make_icu

    db = live_server.db
    icu = make_icu(db, {"ICU-02": ("Chidi", "Okafor")})
    bed_id, patient_id = icu.beds["ICU-02"], icu.patients["ICU-02"]
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    workspace = IcuWorkspace(window.ctx)
    qtbot.addWidget(workspace)
    workspace.resize(1400, 860)
    workspace.show()
    view = workspace.station
    qtbot.waitUntil(lambda: len(view.tiles) == 4, timeout=SIGN_IN_TIMEOUT_MS)
    tile = view.tile_for("ICU-02")
    assert tile.patient_label.text().upper().startswith("OKAFOR")
    assert view.tile_for("ICU-01").patient_label.text() == "No patient"
    qtbot.waitUntil(lambda: workspace.feed.connected, timeout=SIGN_IN_TIMEOUT_MS)

    def publish(events: list[dict]) -> None:
        with db.unit_of_work() as session:
            publish_monitor(session, events)

    base = {"bed_id": str(bed_id), "patient_id": str(patient_id), "device_id": "MON-ICU-02"}
    now = datetime.now(UTC).isoformat()
    publish(
        [
            event(
                "vitals",
                icu.ward_id,
                **base,
                at=now,
                received=time.time(),
                values={"hr": 131, "spo2": 93},
                artefacts=[],
            ),
            event(
                "wave",
                icu.ward_id,
                **base,
                lead="II",
                hz=250,
                at=now,
                received=time.time(),
                samples=[
                    round(float(v), 3)
                    for v in 1.2 * np.exp(-(((np.arange(500) / 250) % 0.8 - 0.1) ** 2) / 0.0002)
                ],
            ),
        ]
    )
    qtbot.waitUntil(lambda: tile.numerics["hr"].value.text() == "131", timeout=SIGN_IN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: tile.sweep.total >= 200, timeout=SIGN_IN_TIMEOUT_MS)
    assert tile.numerics["spo2"].value.text() == "93"
    assert view.latencies and max(view.latencies) < 10
    save(workspace, shots_dir(tmp_path) / "icu_workspace_live.png")

    with db.unit_of_work() as session:  # an alarm the server's alarm service would have raised
        row = AlarmEvent(
            patient_id=patient_id,
            bed_id=bed_id,
            kind="clinical",
            priority="high",
            parameter="hr",
            condition="high",
            message="HR high 131 (limit 120)",
            value=131,
            limit=120,
            started_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        alarm_id = row.id
    workspace.reload()
    qtbot.waitUntil(lambda: tile.active_alarm() is not None, timeout=SIGN_IN_TIMEOUT_MS)
    assert tile.look.background == RED

    tile.ack_button.click()  # acknowledged on the server; the tile stops flashing
    qtbot.waitUntil(
        lambda: tile.active_alarm() is not None and tile.active_alarm().acknowledged_at is not None,
        timeout=SIGN_IN_TIMEOUT_MS,
    )
    assert tile.active_alarm().id == alarm_id
    assert tile.active_alarm().acknowledged_by == live_server.users["nurse"][0]
    assert tile.look.period == 0

    view.bed_opened.emit(tile.bed)  # the detail view loads the patient's alarm history
    detail = workspace.detail
    assert workspace.stack.currentWidget() is detail
    qtbot.waitUntil(lambda: detail.alarm_model.rowCount() >= 1, timeout=SIGN_IN_TIMEOUT_MS)

    dialog = detail.edit_limits()  # the nurse raises the upper heart-rate limit
    dialog.spins["hr_high"].setValue(135)
    with qtbot.waitSignal(dialog.saved, timeout=SIGN_IN_TIMEOUT_MS):
        dialog.submit()
    with live_server.client("nurse") as http:
        stored = http.get(f"/api/monitoring/patients/{patient_id}/limits").json()
    assert stored["hr_high"] == 135
    qtbot.waitUntil(
        lambda: view.tile_for("ICU-02").bed.limits.hr_high == 135, timeout=SIGN_IN_TIMEOUT_MS
    )

    from hms_desktop.sync.api_client import ApiClient

    doctor = ApiClient(live_server.url, token=live_server.token("doctor"), client_id="pytest")

    def save_as_doctor(limits, done, failed):  # noqa: ANN001, ANN202
        try:
            done(doctor.set_alarm_limits(patient_id, limits))
        except Exception as exc:  # noqa: BLE001 - shown to the user as the dialog would
            failed(exc)

    refused = LimitsDialog(AlarmLimits(), save_as_doctor, "ICU-02")
    qtbot.addWidget(refused)
    refused.spins["hr_high"].setValue(140)
    refused.submit()
    assert refused.error_label.text().startswith("The limits were not saved.")
    assert "does not allow this" in refused.error_label.text()  # the server's words
    assert not refused.isVisible() or refused.result() == 0  # not accepted
    doctor.close()
    with live_server.client("nurse") as http:  # nothing changed
        assert http.get(f"/api/monitoring/patients/{patient_id}/limits").json()["hr_high"] == 135
    workspace.shutdown()


def test_a_trend_shows_a_gap_where_readings_stopped():
    """Ten minutes without readings (probe off) are a gap in the line, not a straight line."""
    minutes = [0, 1, 2, 3, 13, 14, 15]
    data = np.array([[m * 60.0, 90.0 + m] for m in minutes])
    times, values = with_gaps(data)
    assert len(values) == len(minutes) + 1
    gap = int(np.flatnonzero(np.isnan(values))[0])
    assert times[gap - 1] == 180.0 and times[gap + 1] == 780.0  # between minute 3 and minute 13
    assert not np.isnan(with_gaps(data[:4])[1]).any()  # steady readings: no gap
