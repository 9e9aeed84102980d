// Copied unchanged, apart from this line, from peers/node-mint in the workspace folder shared with this project; see README.md.
// Benchmark baseline: POST /guests mints a Webex guest JWT (HS256 over the
// base64-decoded issuer secret, claims sub/name/iss/exp), as the npm
// reference tool does, served by Node's own http module.
//
//   npm install && PORT=9090 ISSUER=... SECRET=... WORKERS=1 node server.js
//
// WORKERS > 1 forks that many processes sharing the port (node:cluster).
const cluster = require('node:cluster');
const http = require('node:http');
const jwt = require('jsonwebtoken');

const port = Number(process.env.PORT || 9090);
const workers = Number(process.env.WORKERS || 1);
const issuer = process.env.ISSUER || 'peer-issuer';
const secret = Buffer.from(process.env.SECRET || 'c2VjcmV0', 'base64');

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function mint(req, res) {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    let input;
    try {
      input = JSON.parse(raw);
    } catch {
      return reply(res, 400, { title: 'invalid JSON body' });
    }
    const { userId, userName } = input;
    const expiresIn = input.expiresIn === undefined ? 5400 : input.expiresIn;
    if (typeof userId !== 'string' || typeof userName !== 'string' || !userId || !userName) {
      return reply(res, 400, { title: 'userId and userName are required strings' });
    }
    const exp = Math.floor(Date.now() / 1000) + expiresIn;
    const payload = { sub: userId, name: userName, iss: issuer, exp };
    const token = jwt.sign(payload, secret, { algorithm: 'HS256', noTimestamp: true });
    reply(res, 201, {
      token, userId, userName, expiresIn,
      expiresAt: new Date(exp * 1000).toISOString(),
    });
  });
}

function serve() {
  http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/guests') return mint(req, res);
    if (req.method === 'GET' && req.url === '/healthz') return reply(res, 200, { status: 'ok' });
    reply(res, 404, { title: 'not found' });
  }).listen(port, '127.0.0.1');
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
} else {
  serve();
}
