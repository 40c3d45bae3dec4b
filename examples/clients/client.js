#!/usr/bin/env node
// Run a Python script in a warm sbx sandbox, through `sbx pool serve`.
//
//   sbx pool serve --socket /tmp/sbx.sock &
//   node client.js /tmp/sbx.sock [SCRIPT.py]
//
// Node.js core modules only. The protocol is in docs/protocol.md: one JSON
// object per line each way, over a Unix stream socket.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');

// Send one request, resolve with the decoded response line.
function call(socketPath, request) {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socketPath);
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify(request) + '\n'));
    conn.on('data', (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        conn.end();
        resolve(JSON.parse(buf.slice(0, nl)));
      }
    });
    conn.on('error', reject);
    conn.on('close', () => reject(new Error('the daemon closed the connection')));
  });
}

async function main() {
  const [sock, script] = process.argv.slice(2);
  if (!sock) throw new Error('usage: node client.js SOCKET [SCRIPT.py]');
  const source = script ? fs.readFileSync(script, 'utf8') : 'print("Hello from the sandbox")\n';
  const resp = await call(sock, {
    v: 1, id: 1, op: 'python',
    source, filename: script ? path.basename(script) : 'hello.py', args: [],
    timeout_ms: 10000,
  });
  if (!resp.ok) { // sbx itself failed (bad request, no sandbox, ...)
    process.stderr.write(`sbx: ${resp.error}\n`);
    process.exitCode = resp.code || 125;
    return;
  }
  const r = resp.result; // the same object as `sbx run --json`
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.stdout && !r.stdout.endsWith('\n')) process.stdout.write('\n');
  process.stdout.write(`exit_code: ${r.exit_code}\n`);
  process.exitCode = r.exit_code;
}

main().catch((e) => { process.stderr.write(`${e.message}\n`); process.exitCode = 125; });
