// Preload for the benchmark's emulator child process (node --import): turns on TCP_NODELAY
// for every accepted socket. The emulator's SSH face does not, so each exec pays Nagle +
// delayed-ACK (~40 ms); this shows the client's own figure beside the as-shipped one.
import net from 'node:net';

const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection' && args[0] instanceof net.Socket) args[0].setNoDelay(true);
  return emit.call(this, event, ...args);
};
