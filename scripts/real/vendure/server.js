// Starts Vendure with vendure-config.js (env: VENDURE_PORT, VENDURE_DB, ...).
const { bootstrap } = require('@vendure/core');
const { config } = require('./vendure-config');

bootstrap(config).catch(err => {
  console.error(err);
  process.exit(1);
});
