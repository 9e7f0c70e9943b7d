// Seeds what the real tests read, through Vendure's own APIs on a running
// server: a customer with a default address, a 10% coupon promotion, and
// three placed and paid orders (one with the coupon, one plain, one then
// cancelled). Usage: node seed.js http://127.0.0.1:PORT USER PASSWORD
const [base, user, password] = process.argv.slice(2);

function client(api) {
  let token = null;
  return async (query, variables = {}) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const resp = await fetch(`${base}/${api}`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    token = resp.headers.get('vendure-auth-token') || token;
    const body = await resp.json();
    if (body.errors) throw new Error(`${api}: ${JSON.stringify(body.errors)}`);
    for (const v of Object.values(body.data)) {
      if (v && v.errorCode) throw new Error(`${api}: ${v.errorCode}: ${v.message}`);
    }
    return body.data;
  };
}

async function main() {
  const admin = client('admin-api');
  await admin(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
    ... on CurrentUser { id } ... on ErrorResult { errorCode message } } }`, { u: user, p: password });

  const { createCustomer } = await admin(`mutation { createCustomer(input: {
      emailAddress: "ada@example.com", firstName: "Ada", lastName: "Lovelace", phoneNumber: "+44 20 7946 0000" }) {
    ... on Customer { id } ... on ErrorResult { errorCode message } } }`);
  await admin(`mutation($id: ID!) { createCustomerAddress(customerId: $id, input: {
      fullName: "Ada Lovelace", streetLine1: "12 St James's Square", city: "London", postalCode: "SW1Y 4JH",
      countryCode: "DE", defaultShippingAddress: true, defaultBillingAddress: true }) { id } }`, { id: createCustomer.id });

  await admin(`mutation { createPromotion(input: { enabled: true, couponCode: "TENOFF",
      conditions: [], actions: [{ code: "order_percentage_discount", arguments: [{ name: "discount", value: "10" }] }],
      translations: [{ languageCode: en, name: "Ten percent off" }] }) {
    ... on Promotion { id } ... on ErrorResult { errorCode message } } }`);

  const { productVariants } = await admin(`{ productVariants(options: { take: 100 }) { items { id sku } } }`);
  const variant = Object.fromEntries(productVariants.items.map(v => [v.sku, v.id]));
  const { paymentMethods } = await admin(`{ paymentMethods { items { code } } }`);
  const payment = paymentMethods.items[0].code;

  async function place(email, first, last, items, coupon) {
    const shop = client('shop-api');
    for (const [sku, qty] of items) {
      await shop(`mutation($id: ID!, $q: Int!) { addItemToOrder(productVariantId: $id, quantity: $q) {
        ... on Order { id } ... on ErrorResult { errorCode message } } }`, { id: variant[sku], q: qty });
    }
    if (coupon) {
      await shop(`mutation($c: String!) { applyCouponCode(couponCode: $c) {
        ... on Order { id } ... on ErrorResult { errorCode message } } }`, { c: coupon });
    }
    await shop(`mutation($e: String!, $f: String!, $l: String!) { setCustomerForOrder(input: {
        emailAddress: $e, firstName: $f, lastName: $l }) { ... on Order { id } ... on ErrorResult { errorCode message } } }`,
      { e: email, f: first, l: last });
    await shop(`mutation($n: String!) { setOrderShippingAddress(input: { fullName: $n, streetLine1: "Navy Yard 7",
        city: "Hamburg", postalCode: "20095", countryCode: "DE", phoneNumber: "+49 40 123456" }) {
      ... on Order { id } ... on ErrorResult { errorCode message } } }`, { n: `${first} ${last}` });
    const { eligibleShippingMethods } = await shop(`{ eligibleShippingMethods { id } }`);
    await shop(`mutation($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) {
      ... on Order { id } ... on ErrorResult { errorCode message } } }`, { id: [eligibleShippingMethods[0].id] });
    await shop(`mutation { transitionOrderToState(state: "ArrangingPayment") {
      ... on Order { id } ... on OrderStateTransitionError { errorCode message transitionError } } }`);
    const { addPaymentToOrder } = await shop(`mutation($m: String!) { addPaymentToOrder(input: { method: $m, metadata: {} }) {
      ... on Order { id code state totalWithTax } ... on ErrorResult { errorCode message } } }`, { m: payment });
    console.log(`seed.js: order ${addPaymentToOrder.code} (${addPaymentToOrder.id}) ${addPaymentToOrder.state} ${addPaymentToOrder.totalWithTax}`);
    return addPaymentToOrder;
  }

  await place('grace@example.com', 'Grace', 'Hopper', [['MUG-01', 2], ['TEE-02', 1]], 'TENOFF');
  await place('linus@example.com', 'Linus', 'Torvalds', [['SOCK-03', 3]]);
  const gone = await place('ken@example.com', 'Ken', 'Thompson', [['MUG-01', 1]]);
  await admin(`mutation($id: ID!) { cancelOrder(input: { orderId: $id, cancelShipping: true, reason: "seed" }) {
    ... on Order { id state } ... on ErrorResult { errorCode message } } }`, { id: gone.id });
}

main().catch(err => {
  console.error(err.message || err);
  process.exit(1);
});
