// The identity provider of t/oidc.t: oidc-provider 9 (npm, installed by
// scripts/deps.sh into BUILD/npm) as a real, independent OAuth 2.0 server.
//
//   node t/oidc/sso.mjs NPM_DIR PORT CLIENT_ID CLIENT_SECRET
//
// One confidential client with the client credentials grant; one resource
// server per signing algorithm (resource indicators, RFC 8707), whose
// access tokens are RFC 9068 JWTs (typ at+jwt, audience "lgsp").  The key
// set holds RSA, EC P-256 and Ed25519 signing keys (the Ed25519 one as
// oidc-provider publishes it: alg "Ed25519"), and two keys a resource
// server cannot use for signatures: an RSA encryption key and an X25519
// key.  POST /rotate (loopback only, like the whole server) puts a new
// Ed25519 key first: tokens are signed by it from then on, the old one
// stays published for the tokens already out.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [npmDir, port, clientId, clientSecret] = process.argv.slice(2);

const { default: Provider, errors } = await import(pathToFileURL(
  path.join(npmDir, 'node_modules', 'oidc-provider', 'lib', 'index.js')));

const issuer = `http://127.0.0.1:${port}`;

function jwk(type, options, extra) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), ...extra };
}

const keys = {
  rsa: jwk('rsa', { modulusLength: 2048 }, { kid: 'rsa-1', alg: 'RS256', use: 'sig' }),
  ec: jwk('ec', { namedCurve: 'P-256' }, { kid: 'ec-1', alg: 'ES256', use: 'sig' }),
  ed: jwk('ed25519', {}, { kid: 'ed-1', alg: 'Ed25519', use: 'sig' }),
  enc: jwk('rsa', { modulusLength: 2048 }, { kid: 'rsa-enc', alg: 'RSA-OAEP-256', use: 'enc' }),
  x25519: jwk('x25519', {}, { kid: 'x25519', alg: 'ECDH-ES' }),
};

// the resource servers: the token's signing algorithm by resource
const resources = {
  'urn:lgsp:rs256': 'RS256',
  'urn:lgsp:es256': 'ES256',
  'urn:lgsp:ed25519': 'Ed25519',
};

function provider(signing) {
  const p = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      introspection_signed_response_alg: 'Ed25519',
    }],
    jwks: { keys: [...signing, keys.rsa, keys.ec, keys.enc, keys.x25519] },
    scopes: ['hotich.read', 'hotich.write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      encryption: { enabled: true },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:lgsp:ed25519',
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (!resources[resource]) {
            throw new errors.InvalidTarget();
          }
          return {
            audience: 'lgsp',
            scope: 'hotich.read hotich.write',
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: resources[resource] } },
          };
        },
      },
    },
  });

  p.on('server_error', (ctx, err) => console.error('server_error', err));
  return p;
}

let current = provider([keys.ed]).callback();
let rotations = 0;

http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/rotate') {
    rotations += 1;
    const fresh = jwk('ed25519', {}, { kid: `ed-${rotations + 1}`, alg: 'Ed25519', use: 'sig' });
    current = provider([fresh, keys.ed]).callback();
    res.end(`${fresh.kid}\n`);
    return;
  }
  current(req, res);
}).listen(Number(port), '127.0.0.1', () => console.log(`sso on ${issuer}`));
