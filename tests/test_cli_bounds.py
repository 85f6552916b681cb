"""The command line under faults: its timeout holds from the first request, Ctrl-C
says what it did, drift handled by the client is a note, and every message points
the right way."""

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from .cli import run_cli, start_command
from .fake_space import CONFIG, FakeSpace
from .raw_space import RawSpace, response
from .support import PATIENCE, until


async def silent(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def test_the_timeout_covers_fetching_the_config() -> None:
    raw = RawSpace(routes={"/config": silent})
    await raw.start()
    try:
        # Were /config outside --timeout, its own 30 s bound would outlast the run's.
        result = await run_cli("info", "--url", raw.url, "--timeout", "1", timeout=PATIENCE - 5)
    finally:
        await raw.close()
    assert result.code == 8, result.err
    assert "--timeout" in result.err


async def test_the_timeout_must_be_positive() -> None:
    for value in ("0", "-1", "nan"):
        result = await run_cli("chat", "hi", "--url", "http://127.0.0.1:9", "--timeout", value)
        assert result.code == 2
        assert "positive number of seconds" in result.err


async def test_ctrl_c_before_any_job_does_not_claim_a_cancel() -> None:
    raw = RawSpace(routes={"/config": silent})
    await raw.start()
    # A process of its own: Ctrl-C is a signal to the command's main thread.
    process = await start_command(
        "chat", "hi", "--url", raw.url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await until(lambda: "/config" in raw.paths, "the CLI's request for /config")
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), PATIENCE)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await raw.close()
    assert process.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    assert "cancelled" not in err.decode()


async def test_contract_check_exits_0_when_the_client_handles_every_drift(fake_space: FakeSpace) -> None:
    config = json.loads(CONFIG)
    config["dependencies"][0]["id"] = 7  # the fn_index moved: the client reads it from /config
    fake_space.config = json.dumps(config).encode()
    handled = await run_cli("contract", "check", "--url", fake_space.url)
    assert handled.code == 0, handled.out + handled.err
    assert "note: fn_index" in handled.out
    strict = await run_cli("contract", "check", "--strict", "--url", fake_space.url)
    assert strict.code == 11


async def test_replay_of_a_missing_file_says_so() -> None:
    result = await run_cli("replay", "./missing.yaml")
    assert result.code == 12
    assert "./missing.yaml: no such cassette file" in result.err
    assert "bundled" not in result.err


async def test_replay_of_a_binary_file_gives_a_short_message(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(os.urandom(1 << 20))
    result = await run_cli("replay", str(binary))
    assert result.code == 12
    assert len(result.err) < 1000


async def test_cassette_diff_takes_bundled_names() -> None:
    result = await run_cli("cassette", "diff", "gradio-4.44.1/hello.yaml", "gradio-6.31.0/hello.yaml")
    assert result.code == 11, result.err
    assert "gradio version: 4.44.1 -> 6.31.0" in result.out


async def test_json_errors_are_json_on_stdout() -> None:
    result = await run_cli("replay", "--json", "./missing.yaml")
    assert result.code == 12
    report = json.loads(result.out)
    assert report["type"] == "error"
    assert report["error"] == "CassetteError"
    assert report["exit_code"] == 12


async def test_chat_json_ends_with_its_error_event_on_stdout() -> None:
    result = await run_cli("chat", "--json", "hi", "--url", "http://127.0.0.1:9")
    assert result.code == 7
    *_, last = result.out.splitlines()
    report = json.loads(last)
    assert (report["type"], report["error"], report["exit_code"]) == ("error", "SpaceConnectionError", 7)
    assert result.err == ""


async def test_a_proxy_that_is_not_a_url_is_a_usage_error() -> None:
    raw = RawSpace()
    await raw.start()
    try:
        results = [
            await run_cli(*command, "--url", raw.url, "--proxy", proxy)
            for command in (["chat", "hi"], ["info"], ["contract", "check"])
            for proxy in ("notaproxy", "socks5://127.0.0.1:1080", "http://")
        ]
    finally:
        await raw.close()
    for result in results:
        assert result.code == 2, result.err
        assert "--proxy" in result.err
        assert "http(s)" in result.err
    assert raw.paths == [], "checked before any request"


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="a web site, not a Gradio app")


@pytest.mark.parametrize("path", ["", "/gradio_api", "/some/page"])
async def test_a_url_that_is_not_a_gradio_app_says_to_check_the_url(fake_space: FakeSpace, path: str) -> None:
    # aiohttp answers an unknown path with the text "404: Not Found", as many servers do.
    app = web.Application()
    app.router.add_get("/", hello)
    site = TestServer(app, host="127.0.0.1")
    await site.start_server()
    try:
        site_url = str(site.make_url("")).rstrip("/")
        targets = [site_url + path] if path else [site_url]
        # Under a Gradio app: its /config is at the root only.
        targets += [fake_space.url + path] if path else []
        results = [
            await run_cli(*command, "--url", url)
            for url in targets
            for command in (["chat", "hi"], ["info"], ["contract", "check"])
        ]
    finally:
        await site.close()
    for result in results:
        assert result.code == 6, result.err
        assert "check the URL" in result.err
        assert "root" in result.err
        assert "contract check" not in result.err
        assert "404: 404" not in result.err
        assert result.err.count("\n") == 1


async def test_a_404_web_page_says_to_check_the_url() -> None:
    async def page(writer: asyncio.StreamWriter) -> None:
        body = b"<html><head><title>Error response</title></head><body>404 Not Found</body></html>"
        writer.write(response(body, "text/html", "404 Not Found"))

    raw = RawSpace(routes={"/config": page})
    await raw.start()
    try:
        result = await run_cli("chat", "hi", "--url", raw.url)
    finally:
        await raw.close()
    assert result.code == 6, result.err
    assert "check the URL" in result.err
    assert "asleep" not in result.err


async def test_contract_check_never_advises_running_itself() -> None:
    async def crash(writer: asyncio.StreamWriter) -> None:
        writer.write(response(b"Internal Server Error", "text/plain", "500 Internal Server Error"))

    async def refuse(writer: asyncio.StreamWriter) -> None:
        writer.write(response(b'{"detail":"Method Not Allowed"}', status="405 Method Not Allowed"))

    for route in (crash, refuse):
        raw = RawSpace(routes={"/config": route})
        await raw.start()
        try:
            result = await run_cli("contract", "check", "--url", raw.url)
        finally:
            await raw.close()
        assert result.code in (6, 20), result.err
        assert "contract check" not in result.err


async def test_replay_beside_a_deeply_nested_manifest_plays_the_cassette(tmp_path: Path) -> None:
    # json.loads raises RecursionError, not ValueError, past Python's nesting limit:
    # load_manifest makes it a CassetteError, which replay takes for a foreign manifest.
    from qwen_space.client.errors import CassetteError
    from qwen_space.client.recording import bundled_cassette, load_manifest

    (tmp_path / "gradio-5.50.0").mkdir()
    cassette = tmp_path / "gradio-5.50.0" / "hello.yaml"
    cassette.write_bytes(bundled_cassette("gradio-5.50.0/hello.yaml").read_bytes())
    (tmp_path / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CassetteError, match=f"the cassette manifest {tmp_path / 'manifest.json'} is not JSON"):
        load_manifest(tmp_path)
    result = await run_cli("replay", str(cassette))
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert "recorded from an unknown Space" in result.err
