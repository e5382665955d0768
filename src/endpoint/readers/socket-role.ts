// Snapshot sources (osquery process_open_sockets, esxcli connection lists) show an
// established socket without saying who opened it. The role is guessed: a local port the
// same feed saw listening means the socket was accepted; failing that, a privileged local
// port facing an unprivileged remote one means a service accepted it; otherwise it is taken
// as an outbound connect. The guess is marked by the caller in event.code.

/** Listening ports remembered per feed; beyond this the oldest are forgotten. */
export const MAX_LISTEN_PORTS = 4096;
const PRIVILEGED_PORT_MAX = 1023;

export class SocketRoleGuesser {
  private listening = new Set<string>();

  /** Only the port is kept: a wildcard bind covers every local address. */
  noteListen(localPort: number | undefined): void {
    if (localPort === undefined) return;
    if (this.listening.size >= MAX_LISTEN_PORTS) {
      const oldest = this.listening.values().next().value as string;
      this.listening.delete(oldest);
    }
    this.listening.add(`${localPort}`);
  }

  role(localPort: number | undefined, remotePort: number | undefined): 'accept' | 'connect' {
    if (localPort !== undefined && this.listening.has(`${localPort}`)) return 'accept';
    if (
      localPort !== undefined &&
      remotePort !== undefined &&
      localPort <= PRIVILEGED_PORT_MAX &&
      remotePort > PRIVILEGED_PORT_MAX
    ) {
      return 'accept';
    }
    return 'connect';
  }
}

/** Unspecified addresses that mean "no remote end" in a socket table. */
export function isUnspecified(addr: string | undefined): boolean {
  return addr === undefined || addr === '' || addr === '0.0.0.0' || addr === '::' || addr === '*';
}
