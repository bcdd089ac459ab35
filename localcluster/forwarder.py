"""Publish the node's ports on the machine's loopback: 127.0.0.1:<port> → <node address>:<port>.

The node lives in its own network namespace (`netns.py`), so nothing of it is reachable from the
machine. This daemon runs in the machine's namespace (cluster.start launches it through
`nsenter`), listens on loopback only, and opens each upstream connection from a thread that sits
in `kui-node`. It always publishes the given ports (the management apiserver) and follows the
cluster's Services: every NodePort is published while its Service exists, so a kubeconfig
downloaded from the dashboard (`https://127.0.0.1:<nodePort>`) works from the machine, TLS
verified, exactly as it does inside the namespace where kube-proxy answers on 127.0.0.1 itself.

    python -m localcluster.forwarder --target 10.212.0.1 --port 6443 --kubeconfig <admin kubeconfig>
"""

import argparse
import asyncio
import contextlib
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import netns

LISTEN_HOST = "127.0.0.1"
PUBLISHED_TYPES = ("NodePort", "LoadBalancer")
log = logging.getLogger("forwarder")


def node_ports(services: list[dict]) -> set[int]:
    """Every nodePort of the Services that have them (pure: unit-tested)."""
    return {port["nodePort"] for svc in services if svc.get("spec", {}).get("type") in PUBLISHED_TYPES
            for port in svc["spec"].get("ports") or () if port.get("nodePort")}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Forwarder:
    def __init__(self, target: str, static_ports: set[int]):
        self.target = target
        self.static_ports = static_ports
        self.servers: dict[int, asyncio.Server] = {}
        # Sockets made by this one thread belong to the node's namespace.
        self.node_side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="node-side", initializer=netns.enter)

    async def _connect_upstream(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(self.node_side, socket.socket, socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (self.target, port)), timeout=10)
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock)

    def _handler(self, port: int):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await self._connect_upstream(port)
            except (TimeoutError, OSError) as exc:
                log.warning("port %s: upstream %s:%s: %s", port, self.target, port, exc)
                writer.close()
                return
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        return handle

    async def publish(self, ports: set[int]) -> None:
        """Listen on exactly static_ports | ports (opening and closing listeners as needed)."""
        wanted = self.static_ports | ports
        for port in sorted(set(self.servers) - wanted):
            self.servers.pop(port).close()
            log.info("unpublished %s", port)
        for port in sorted(wanted - set(self.servers)):
            try:
                self.servers[port] = await asyncio.start_server(self._handler(port), LISTEN_HOST, port,
                                                                reuse_address=True)
                log.info("published %s:%s -> %s:%s", LISTEN_HOST, port, self.target, port)
            except OSError as exc:  # taken on the machine: retried at the next change
                log.warning("cannot publish %s: %s", port, exc)


def follow_services(kubeconfig: str, on_change, stop: threading.Event) -> None:
    """List and watch Services (from the node's namespace), calling on_change(node ports) on each change."""
    from kubernetes import client, config, watch

    netns.enter()
    seen: dict[str, dict] = {}
    while not stop.is_set():
        try:
            api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
            listing = api.list_service_for_all_namespaces(_request_timeout=10)
            sanitize = api.api_client.sanitize_for_serialization
            seen = {svc.metadata.uid: sanitize(svc) for svc in listing.items}
            on_change(node_ports(list(seen.values())))
            for event in watch.Watch().stream(api.list_service_for_all_namespaces, timeout_seconds=120,
                                              resource_version=listing.metadata.resource_version):
                obj = event["raw_object"]
                if event["type"] == "DELETED":
                    seen.pop(obj["metadata"]["uid"], None)
                elif event["type"] in ("ADDED", "MODIFIED"):
                    seen[obj["metadata"]["uid"]] = obj
                else:
                    break  # ERROR (e.g. 410 Gone): list again
                on_change(node_ports(list(seen.values())))
        except Exception as exc:  # the apiserver restarting, or not up yet
            log.info("services: %s; again in 1 s", exc)
            time.sleep(1)


async def main_async(args: argparse.Namespace) -> None:
    forwarder = Forwarder(args.target, set(args.port))
    await forwarder.publish(set())
    if args.kubeconfig:
        loop = asyncio.get_running_loop()

        def on_change(ports: set[int]) -> None:
            asyncio.run_coroutine_threadsafe(forwarder.publish(ports), loop)

        threading.Thread(target=follow_services, args=(args.kubeconfig, on_change, threading.Event()),
                         daemon=True, name="services").start()
    await asyncio.Event().wait()  # until SIGTERM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="the node's address inside its namespace")
    parser.add_argument("--port", type=int, action="append", default=[], help="always published")
    parser.add_argument("--kubeconfig", help="follow this cluster's Services and publish their NodePorts")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
