#!/usr/bin/python3
"""
mute_proxy.py LISTEN_PORT TARGET_PORT — a TCP proxy to a PostgreSQL server that, once
the server has sent a CopyDone message ('c', length 4) to a client, forwards nothing
more from the server to that client and keeps the connection open: a server that
ended the replication copy and then stopped answering.  Prints "ready" when it listens.
"""
import socket
import sys
import threading

COPY_DONE = b"c\x00\x00\x00\x04"


def pump(src, dst, mute_after_copydone):
    tail = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if mute_after_copydone:
                window = tail + data
                i = window.find(COPY_DONE)
                if i >= 0:
                    # forward up to and including the CopyDone, then nothing more
                    end = i + len(COPY_DONE) - len(tail)
                    dst.sendall(data[:max(end, 0)])
                    while src.recv(65536):
                        pass
                    return
                tail = window[-(len(COPY_DONE) - 1):]
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = srv.accept()
        server = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pump, args=(client, server, False), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, True), daemon=True).start()


main()
