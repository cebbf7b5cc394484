"""The local LINE simulator: the real bot, a stand-in LINE, people with phones, a clock."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aiohttp import ClientSession

from simulator.demo import Demo
from simulator.tour import DAUGHTER, GROUP, NEIGHBOURS, RESIDENT, SON, Tour, key_of
from tests.conftest import free_port_pair

ROOT = Path(__file__).resolve().parents[1]


def texts(demo: Demo, name: str) -> list[str]:
    assert demo.simulator is not None
    person = demo.simulator.people[key_of(demo.simulator, name)]
    return [bubble.text for bubble in demo.simulator.logs[person.uid]]


async def test_the_tour_tells_the_whole_story(demo: Demo) -> None:
    assert demo.simulator is not None
    await Tour(demo.simulator, pace=0).run()
    resident = texts(demo, RESIDENT)
    assert any(t.startswith("お元気ですか？") for t in resident)
    assert any(t.startswith("もう一度おたずねします") for t in resident)
    for relative in (DAUGHTER, SON):
        said = texts(demo, relative)
        assert any("管理者として参加しました" in t for t in said)
        assert any("安否確認のお知らせ" in t for t in said), said
        assert any("ご無事です" in t for t in said)
    group = demo.simulator.logs[demo.simulator.groups["g1"].gid]
    assert any(f"{NEIGHBOURS[0]}さん OK" in b.text for b in group)
    report = next(b.text for b in group if "まだ OK がない方" in b.text)
    assert f"・{NEIGHBOURS[2]}さん" in report and NEIGHBOURS[0] not in report
    assert demo.simulator.groups["g1"].name == GROUP


async def test_the_phones_page_and_its_api(demo: Demo) -> None:
    async with ClientSession() as session:
        async with session.get(demo.url) as response:
            assert response.status == 200 and "シミュレーター" in await response.text()
        async with session.post(demo.url + "api/people", json={"name": "new person"}) as response:
            key = (await response.json())["key"]
        async with session.post(demo.url + f"api/people/{key}/follow", json={}) as response:
            assert response.status == 200
        await asyncio.sleep(0)
        for _ in range(100):  # the bot answers in the background; wait for its reply
            async with session.get(demo.url + "api/state") as response:
                state = await response.json()
            person = next(p for p in state["people"] if p["key"] == key)
            if person["chat"]:
                break
            await asyncio.sleep(0.05)
        assert "友だち追加ありがとうございます" in person["chat"][0]["text"]
        async with session.get(demo.url + f"mypage/{key}", allow_redirects=False) as response:
            assert response.status == 302 and "#sim_token=" in response.headers["Location"]
        async with session.post(demo.url + "api/clock", json={"advance": "1d"}) as response:
            assert response.status == 200
        async with session.post(demo.url + "api/clock", json={"advance": "1y"}) as response:
            assert response.status == 400
        async with session.post(demo.url + "api/people/nobody/follow", json={}) as response:
            assert response.status == 404


async def test_serve_without_credentials_starts_the_simulator(tmp_path: Path) -> None:
    port = free_port_pair()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "MIMAMORI_PORT": str(port),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"open http://127.0.0.1:{port + 1}/" in line
        async with ClientSession() as session, session.get(f"http://127.0.0.1:{port + 1}/") as r:
            assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
