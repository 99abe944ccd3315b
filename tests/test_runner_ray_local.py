"""The local Ray instance the runner starts: no dashboard web UI, every listening port on loopback."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from coopsim.runner import executors


def _descendants(root: int) -> set[int]:
    """``root`` and every process below it (from ``/proc/*/stat``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += children.get(pid, [])
    return seen


def _address(hex_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_ip)
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is host order
    return ipaddress.ip_address(raw)


def listening(pids: set[int]) -> list[tuple[str, int, int, str]]:
    """``(address, port, pid, command)`` of every listening TCP socket the processes ``pids`` hold."""
    owner: dict[str, int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                owner[link[8:-1]] = pid
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] != "0A" or f[9] not in owner:  # 0A: LISTEN
                continue
            ip_hex, port_hex = f[1].split(":")
            pid = owner[f[9]]
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                comm = "?"
            rows.append((str(_address(ip_hex)), int(port_hex, 16), pid, comm))
    return rows


def _loopback(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    mapped = getattr(a, "ipv4_mapped", None)
    return a.is_loopback or (mapped is not None and mapped.is_loopback)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under pytest -n
def test_local_ray_instance_listens_on_loopback_only_without_dashboard():
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    executors._ray_init(ray, 1, None)
    try:
        assert ray.get(ray.remote(num_cpus=1)(lambda: os.getpid()).remote()) != os.getpid()  # a worker exists
        node = ray._private.worker._global_node
        assert node.node_ip_address == "127.0.0.1"
        assert not node.address_info.get("webui_url")  # no dashboard web UI
        rows = listening(_descendants(os.getpid()))
        commands = {c for _, _, _, c in rows}
        assert {"gcs_server", "raylet"} <= commands, rows  # the check sees Ray's own servers
        assert [r for r in rows if not _loopback(r[0])] == []
        assert 8265 not in {port for _, port, _, _ in rows}  # the dashboard's port
    finally:
        ray.shutdown()
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER is True  # restored after the start (Linux default)
