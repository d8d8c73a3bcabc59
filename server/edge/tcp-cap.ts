import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { addressKey, canonicalAddress } from './client-address.ts';

/**
 * Caps the TCP connections one client address may hold open, below any
 * protocol: a flood of connections that never speak HTTP (or stay silent
 * after the handshake) is refused at accept, before it can use up the
 * server's file descriptors. Each over the cap is destroyed at once.
 *
 * Only for a server that faces clients directly: behind a proxy every
 * connection comes from the proxy (which must do this job), so it is not
 * installed when `TRUST_PROXY` is set.
 */
export function capTcpPerAddress(server: Server, perAddress: number, onRefuse?: (address: string) => void): { open(address: string): number } {
  const open = new Map<string, number>();
  // One listener for every socket, reading the socket's key from the socket:
  // a closure per connection (with `once`'s wrapper and its state) would
  // cost each idle connection about 200 bytes.
  function closed(this: CappedSocket): void {
    const key = this[ADDRESS_KEY];
    if (key === undefined) return;
    this[ADDRESS_KEY] = undefined;
    const left = (open.get(key) ?? 1) - 1;
    if (left > 0) open.set(key, left);
    else open.delete(key);
  }
  server.on('connection', (socket: CappedSocket) => {
    const key = addressKey(canonicalAddress(socket.remoteAddress));
    const n = (open.get(key) ?? 0) + 1;
    if (n > perAddress) {
      onRefuse?.(key);
      socket.destroy();
      return;
    }
    open.set(key, n);
    socket[ADDRESS_KEY] = key;
    socket.on('close', closed);
  });
  return { open: (address) => open.get(address) ?? 0 };
}

/** Where a counted socket keeps its address key until it closes. */
const ADDRESS_KEY = Symbol('fiberchat.tcpAddressKey');

type CappedSocket = Socket & { [ADDRESS_KEY]?: string | undefined };
