"""The process: `mimamori serve`, its settings, its scheduler job, SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from ground.clock import FakeClock
from ground.settings import Settings
from scheduler.engine import ENGINE, HEAT_JOB_ID, JMA_JOB_ID, STORM_JOB_ID
from server.app import create_app
from server.heap import freeze_startup_heap
from tests.conftest import Bot
from tests.drivers import watched_resident
from tests.fake_line import FakeLine

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        "serve",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_cli(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await serve(env, cwd)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, err.decode()


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "NO_PROXY": "127.0.0.1,localhost",
    }


async def test_a_missing_or_invalid_setting_stops_startup_with_one_line(tmp_path: Path) -> None:
    # With no LINE credentials at all, `serve` shows the simulator (tests/test_simulator.py);
    # with one of them, the other is named as missing.
    env = {**base_env(tmp_path), "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    code, err = await run_cli(env, tmp_path)
    assert code == 2
    assert err.strip() == "mimamori: invalid setting LINE_CHANNEL_SECRET: is required but not set"

    env = {
        **base_env(tmp_path),
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "MIMAMORI_ALERT_AFTER": "3 hours",
    }
    code, err = await run_cli(env, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "MIMAMORI_ALERT_AFTER" in err

    (tmp_path / "ja.toml").write_text("[texts\nbroken")
    env = {**env, "MIMAMORI_ALERT_AFTER": "3h", "MIMAMORI_LOCALE_OVERRIDES": str(tmp_path)}
    code, err = await run_cli(env, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "MIMAMORI_LOCALE_OVERRIDES" in err and "ja.toml" in err


async def test_in_a_container_no_credentials_is_one_line_not_an_unreachable_simulator(
    tmp_path: Path,
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "MIMAMORI_IN_CONTAINER=1" in dockerfile
    code, err = await run_cli({**base_env(tmp_path), "MIMAMORI_IN_CONTAINER": "1"}, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "LINE_CHANNEL_SECRET" in err and "LINE_CHANNEL_ACCESS_TOKEN" in err


def _instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, each on one line (continuations joined, comments out)."""
    joined = dockerfile.replace("\\\n", " ")
    return [
        " ".join(line.split())
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_image_installs_its_dependencies_before_the_code_and_a_group_of_its_own() -> None:
    """A change to the code rebuilds from the sources' first COPY on: the dependencies, read
    from pyproject.toml alone, are installed in a layer before it, and the project after it
    without them. The account's group has the account's fixed id, not a system group's one
    (files in a mounted /data read 10001:10001 on the host)."""
    steps = _instructions((ROOT / "Dockerfile").read_text("utf-8"))
    copies = [n for n, step in enumerate(steps) if step.startswith("COPY ")]
    installs = [n for n, step in enumerate(steps) if "pip install" in step]
    assert steps[copies[0]] == "COPY pyproject.toml ./", "the dependencies' list comes alone"
    dependencies, project = installs
    assert copies[0] < dependencies < copies[1], "the dependencies before any source"
    assert "['project']['dependencies']" in steps[dependencies]
    assert project > copies[-1] and "--no-deps" in steps[project]
    account = next(step for step in steps if "useradd" in step)
    assert "groupadd --gid 10001 mimamori" in account
    assert "--uid 10001 --gid 10001" in account
    assert "USER mimamori" in steps


def test_the_compose_example_puts_caddy_in_front_and_keeps_metrics_inside() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert set(compose["services"]) == {"mimamori", "caddy"}
    assert "ports" not in compose["services"]["mimamori"], "only the proxy faces the network"
    caddyfile = (ROOT / "Caddyfile").read_text()
    assert "reverse_proxy {$MIMAMORI_UPSTREAMS:mimamori:8080}" in caddyfile
    assert "/metrics" in caddyfile and "health_uri /livez" in caddyfile


def test_the_postgres_compose_example_runs_two_instances_on_one_database() -> None:
    compose = yaml.safe_load((ROOT / "compose.postgres.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "mimamori-1", "mimamori-2", "caddy"} == set(services)
    for name in ("mimamori-1", "mimamori-2"):
        assert "ports" not in services[name], "only the proxy faces the network"
        assert services[name]["environment"]["MIMAMORI_DATABASE"].startswith("postgresql://")
    assert "ports" not in services["postgres"], "the database is not on the network"
    upstreams = services["caddy"]["environment"]["MIMAMORI_UPSTREAMS"].split()
    assert upstreams == ["mimamori-1:8080", "mimamori-2:8080"]
    # LINE's rate limits are the channel's: each instance knows it has half of them.
    for name in ("mimamori-1", "mimamori-2"):
        assert services[name]["environment"]["MIMAMORI_INSTANCES"] == str(len(upstreams))


async def test_serve_answers_health_and_stops_on_sigterm(
    tmp_path: Path, fake_line: FakeLine
) -> None:
    port = free_port()
    (tmp_path / ".env").write_text("LINE_CHANNEL_SECRET=from-dotenv\n")
    env = {
        **base_env(tmp_path),
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "LINE_API_BASE_URL": fake_line.url,
        "MIMAMORI_PORT": str(port),
        "MIMAMORI_HOST": "127.0.0.1",
        "MIMAMORI_DATABASE": str(tmp_path / "m.db"),
    }
    process = await serve(env, tmp_path)
    try:
        status = await _wait_for_health(port)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert (tmp_path / "m.db").exists()
    # A healthy container's log says where it listens and that it stopped, not nothing.
    said = err.decode()
    assert f"listening on http://127.0.0.1:{port}" in said and "(sqlite)" in said
    assert "stopping" in said and "stopped" in said


async def test_a_database_folder_it_cannot_use_is_one_line(tmp_path: Path) -> None:
    """A volume the image's user may not write ended start-up in a long traceback."""
    (tmp_path / "a-file").write_text("")
    env = {
        **base_env(tmp_path),
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "MIMAMORI_DATABASE": str(tmp_path / "a-file" / "m.db"),
    }
    code, err = await run_cli(env, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "MIMAMORI_DATABASE" in err and "not a folder" in err


async def _wait_for_health(port: int) -> int:
    # Waiting for a child process to bind its port (bounded), not for the scheduler.
    async with ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status
            except OSError:
                await asyncio.sleep(0.05)
    raise AssertionError("the server did not start")


async def test_one_sweep_job_moved_earlier_when_something_falls_due(
    settings: Settings, clock: FakeClock, fake_line: FakeLine
) -> None:
    slow = Settings(**{**settings.__dict__, "sweep_interval": timedelta(days=1)})
    app = create_app(slow, clock=clock, run_scheduler=True)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        bot = Bot(client, app, clock, fake_line, slow)
        engine = app[ENGINE]
        job = engine.sweep_job
        assert job is not None
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert job.trigger.interval == timedelta(days=1)
        await watched_resident(bot, "resident", ["son"])  # first check-in due in 24 h
        clock.advance(timedelta(hours=23))
        await bot.sweep()
        wake = job.next_run_time - datetime.now(UTC)
        assert timedelta(minutes=59) < wake <= timedelta(hours=1)
    finally:
        await client.close()


async def test_each_feed_is_one_job_at_its_interval_and_the_heat_files_are_read_at_start(
    settings: Settings, clock: FakeClock, fake_line: FakeLine
) -> None:
    async def feed_jobs(**feeds: object) -> list[tuple[str, timedelta, bool, str]]:
        configured = Settings(**{**settings.__dict__, **feeds})
        app = create_app(configured, clock=clock, run_scheduler=False)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            return [
                (job.job_id, job.interval, job.at_once, type(job.poller).__name__)
                for job in app[ENGINE].feed_jobs()
            ]
        finally:
            await client.close()

    assert await feed_jobs() == [], "no feed configured, none polled"
    every = {"jma_interval": timedelta(seconds=90), "heat_interval": timedelta(minutes=7)}
    assert await feed_jobs(
        jma_areas=frozenset({"350"}),
        storm_areas=frozenset({"1310100"}),
        heat_areas=frozenset({"130000"}),
        **every,
    ) == [
        (JMA_JOB_ID, timedelta(seconds=90), False, "QuakePoller"),
        (STORM_JOB_ID, timedelta(seconds=90), False, "StormPoller"),
        (HEAT_JOB_ID, timedelta(minutes=7), True, "HeatPoller"),
    ]
    assert [job[0] for job in await feed_jobs(heat_areas=frozenset({"130000"}))] == [HEAT_JOB_ID]


def test_the_cities_compose_example_runs_one_deployment_per_line_channel() -> None:
    """Two municipalities: each its own channel's credentials, brand and database, on one
    PostgreSQL server, each domain served by its own deployment."""
    compose = yaml.safe_load((ROOT / "compose.cities.yaml").read_text())
    services = compose["services"]
    cities = [name for name in services if name.startswith("city-")]
    assert len(cities) == 2
    env_files = {services[city]["env_file"] for city in cities}
    databases = {services[city]["environment"]["MIMAMORI_DATABASE"] for city in cities}
    brandings = {tuple(services[city]["volumes"]) for city in cities}
    assert len(env_files) == len(databases) == len(brandings) == 2, "nothing shared"
    assert {url.split("@postgres:5432/")[0] for url in databases} == {
        "postgresql://mimamori:${POSTGRES_PASSWORD}"
    }, "one PostgreSQL server"
    made = compose["configs"]["postgres-databases"]["content"]
    first = services["postgres"]["environment"]["POSTGRES_DB"]
    for url in databases:
        name = url.rsplit("/", 1)[1]
        assert name == first or f"CREATE DATABASE {name} " in made, name
    for city in cities:
        assert "ports" not in services[city], "only the proxy faces the network"
    caddyfile = (ROOT / "Caddyfile.cities").read_text()
    for city in cities:
        assert f"reverse_proxy {city}:8080" in caddyfile
    assert "/metrics" in caddyfile


async def test_a_started_server_sets_what_starting_built_apart_from_the_collector() -> None:
    app = web.Application()
    app.on_startup.append(freeze_startup_heap)
    try:
        async with TestServer(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the suite's other tests collect as they did
