#!/usr/bin/env python3
"""A TCP proxy for the failover fault scenario, standing in for the HAProxy or PgBouncer address an operator points
provhook at: it listens on a free loopback port (written to PORT_FILE) and forwards each new connection to the
loopback port named in TARGET_FILE, read again for every connection. SIGUSR1 closes every connection it holds, as
HAProxy's `on-marked-down shutdown-sessions` does when the old primary is marked down, so that clients reconnect
to the new one.

    switch-proxy.py PORT_FILE TARGET_FILE
"""
import asyncio
import os
import signal
import sys

port_file, target_file = sys.argv[1], sys.argv[2]
held = set()


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    with open(target_file) as f:
        port = int(f.read().strip())
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        client_writer.transport.abort()
        return
    pair = (client_writer, server_writer)
    held.add(pair)
    try:
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
    finally:
        held.discard(pair)


def drop_all():
    for pair in list(held):
        for writer in pair:
            writer.transport.abort()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, drop_all)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    # Renamed into place, so that a reader never sees a half-written port.
    os.rename(port_file + ".tmp", port_file)
    await server.serve_forever()


asyncio.run(main())
