// The Vendure server Ferry's real tests run against (scripts/real/vendure.sh).
// sql.js (SQLite compiled to WebAssembly) keeps the database in one file
// with no native module; the session token travels as a bearer token.
const path = require('path');
const { dummyPaymentHandler, DefaultLogger, LogLevel } = require('@vendure/core');

const env = (k, d) => process.env[k] || d;

exports.config = {
  apiOptions: {
    hostname: '127.0.0.1',
    port: Number(env('VENDURE_PORT', '3000')),
    adminApiPath: 'admin-api',
    shopApiPath: 'shop-api',
  },
  authOptions: {
    tokenMethod: 'bearer',
    requireVerification: false,
    superadminCredentials: {
      identifier: env('VENDURE_USER', 'superadmin'),
      password: env('VENDURE_PASSWORD', 'ferry-Vendure-7k3p'),
    },
  },
  dbConnectionOptions: {
    type: 'sqljs',
    location: path.resolve(env('VENDURE_DB', 'vendure.sqlite')),
    autoSave: true,
    synchronize: true,
    logging: false,
  },
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  logger: new DefaultLogger({ level: LogLevel.Warn }),
  plugins: [],
};
