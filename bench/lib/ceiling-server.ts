// The benchmark's ceiling: a bare Fastify route answering a constant JSON body (the size of a
// typical recommendation response), no hooks, no validation, no I/O.
//   node --import tsx bench/lib/ceiling-server.ts BODY_FILE   (PORT from the environment)
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const body: unknown = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const app = Fastify({ logger: false });
app.get('/', async () => body);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
