// Round-trip figures against the emulator over loopback: the set-limits write wanctl does
// (REST PATCH with keep-alive; SSH exec on one persistent connection) and a stats read.
// Run: npm run bench (builds first). Prints one line per figure.
import http from 'node:http';
import net from 'node:net';
import ssh2 from 'ssh2';
import { startEmulator } from '../dist/index.js';

const N_REST = Number(process.env.N_REST ?? 2000);
const N_SSH = Number(process.env.N_SSH ?? 500);

function stats(name, samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  console.log(
    `${name.padEnd(34)} n=${s.length} p50=${q(0.5).toFixed(3)}ms p90=${q(0.9).toFixed(3)}ms p99=${q(0.99).toFixed(3)}ms max=${s[s.length - 1].toFixed(3)}ms`,
  );
}

const emu = await startEmulator();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const auth = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const id = emu.state.resolveId('/queue/tree', 'WAN-Download-1');

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : undefined;
    const req = http.request(
      `${emu.rest.url}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: auth,
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function timeIt(n, fn) {
  const out = [];
  for (let i = 0; i < Math.min(50, n); i++) await fn(i); // warm-up
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

stats('REST PATCH max-limit (keep-alive)', await timeIt(N_REST, (i) => request('PATCH', `/queue/tree/${id}`, { 'max-limit': String(400000000 + i) })));
stats('REST GET queue ?name=', await timeIt(N_REST, () => request('GET', '/queue/tree?name=WAN-Download-1')));

const client = new ssh2.Client();
await new Promise((resolve, reject) => {
  client.once('ready', resolve).once('error', reject);
  // the client side needs TCP_NODELAY too (ssh2's Client does not set it)
  const sock = net.connect({ host: '127.0.0.1', port: emu.ssh.port, noDelay: true });
  sock.once('connect', () => client.connect({ sock, username: 'admin+ct', password: 'admin' }));
});
const exec = (cmd) =>
  new Promise((resolve, reject) =>
    client.exec(cmd, (err, stream) => {
      if (err) return reject(err);
      stream.on('data', () => {});
      stream.on('close', resolve);
    }),
  );
stats(
  'SSH exec set-limits (2 cmds, ;-joined)',
  await timeIt(N_SSH, (i) =>
    exec(
      `/queue tree set [find name="WAN-Download-1"] queue=cake-down-wan1 max-limit=${400000000 + i}; /queue tree set [find name="WAN-Upload-1"] queue=cake-up-wan1 max-limit=${30000000 + i}`,
    ),
  ),
);
stats('SSH exec print stats detail', await timeIt(N_SSH, () => exec('/queue/tree/print stats detail where name="WAN-Download-1"')));
client.end();
agent.destroy();
await emu.stop();
