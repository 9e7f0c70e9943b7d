// Creates the schema, the superadmin, a tax zone with a 20% rate, a
// shipping method, the dummy payment method and the products in
// products.csv. Run once on an empty database file (VENDURE_DB).
const path = require('path');
const { bootstrap } = require('@vendure/core');
const { populate } = require('@vendure/core/cli');
const { config } = require('./vendure-config');

const initialData = {
  defaultLanguage: 'en',
  defaultZone: 'Europe',
  countries: [
    { name: 'Germany', code: 'DE', zone: 'Europe' },
    { name: 'Austria', code: 'AT', zone: 'Europe' },
  ],
  taxRates: [{ name: 'Standard Tax', percentage: 20 }],
  shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
  paymentMethods: [
    { name: 'Dummy', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'true' }] } },
  ],
  collections: [],
};

populate(
  () => bootstrap({ ...config, apiOptions: { ...config.apiOptions, port: 0 } }),
  initialData,
  path.join(__dirname, 'products.csv'),
)
  .then(app => app.close())
  .then(() => process.exit(0))
  .catch(err => {
    console.error(err);
    process.exit(1);
  });
