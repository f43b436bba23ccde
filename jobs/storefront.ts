// The demo storefront on its own origin (src/demo): started by scripts/demo.sh after the API,
// with the shops' keys in STOREFRONT_SHOPS.
import { loadConfig, loadStorefrontConfig } from '../src/config.ts';
import { buildStorefront } from '../src/demo/storefront.ts';
import { createPool } from '../src/store/pg/pool.ts';

const config = loadStorefrontConfig();
const pool = createPool(loadConfig().databaseUrl, 2);
const app = await buildStorefront({
  shops: config.shops.map((s) => ({ ...s, api: config.apiUrl })),
  apiUrl: config.apiUrl,
  userTokenSecret: config.userTokenSecret,
  db: pool,
  logger: true,
});
await app.listen({ host: config.host, port: config.port });
const stop = async () => {
  await app.close();
  await pool.end();
};
process.once('SIGINT', stop).once('SIGTERM', stop);
