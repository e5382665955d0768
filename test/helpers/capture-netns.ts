// A throwaway network namespace joined to the root namespace by a veth pair, so live
// capture tests can send known traffic to an interface nobody else uses.
import { execFileSync } from 'node:child_process';

export interface VethLab {
  ns: string;
  hostIf: string;
  /** The peer end, inside the namespace: what is sent out of it arrives on hostIf. */
  nsIf: string;
  hostAddr: string;
  nsAddr: string;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates namespace + veth pair; names and /30 derive from the pid so parallel runs differ. */
export function createVethLab(): VethLab {
  const id = process.pid % 100_000;
  const ns = `th-cap-${id}`;
  // IFNAMSIZ is 16 with the NUL: "thc" + 5 digits + "h" fits.
  const hostIf = `thc${id}h`;
  const peerIf = `thc${id}n`;
  const octet2 = 100 + (id % 100);
  const octet3 = Math.floor(id / 100) % 250;
  const hostAddr = `10.${octet2}.${octet3}.1`;
  const nsAddr = `10.${octet2}.${octet3}.2`;

  const destroy = (): void => {
    // Deleting the namespace destroys the peer end, and with it the host end.
    for (const args of [['netns', 'del', ns], ['link', 'del', hostIf]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };

  destroy();
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${nsAddr}/30`, 'dev', peerIf);
    ip('-n', ns, 'link', 'set', peerIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    destroy();
    throw err;
  }
  return { ns, hostIf, nsIf: peerIf, hostAddr, nsAddr, destroy };
}

/** Sends `count` UDP datagrams of `size` bytes from inside the namespace, then returns. */
export function sendUdpFromNamespace(
  lab: VethLab,
  port: number,
  count: number,
  size: number,
): void {
  const script = `
    const dgram = require('node:dgram');
    const sock = dgram.createSocket('udp4');
    let sent = 0;
    const next = () => {
      if (sent === ${count}) return sock.close();
      const payload = Buffer.alloc(${size}, 0x61);
      payload.writeUInt32BE(sent, 0);
      sent += 1;
      sock.send(payload, ${port}, '${lab.hostAddr}', (err) => {
        if (err) { console.error(err); process.exit(1); }
        next();
      });
    };
    next();`;
  execFileSync('ip', ['netns', 'exec', lab.ns, process.execPath, '-e', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 20_000,
  });
}
