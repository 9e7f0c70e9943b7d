"""Seeds the Tryton template database for Ferry's real tests.

Run by scripts/real/tryton.sh after `trytond-admin --all` with the venv's
python and TRYTOND_DATABASE__URI / __PATH set: a company in EUR, the minimal
chart of accounts, a fiscal year with invoice sequences (so credit notes
can be posted), products with codes (MUG-01, TEE-02 and the service
products an order's shipping, VAT and discount are booked on), stock in the
warehouse and one customer. Uses proteus on the database directly.
"""

import sys
from decimal import Decimal

from proteus import Model, config
from trytond.modules.account.tests.tools import (
    create_chart, create_fiscalyear, get_accounts)
from trytond.modules.account_invoice.tests.tools import (
    set_fiscalyear_invoice_sequences)
from trytond.modules.company.tests.tools import create_company
from trytond.modules.currency.tests.tools import get_currency

database = sys.argv[1]
config.set_trytond(database)

eur = get_currency('EUR')
company_party = Model.get('party.party')(name='Ferry Test Shop')
company_party.save()
create_company(party=company_party, currency=eur)
create_chart()
fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear())
fiscalyear.click('create_period')
accounts = get_accounts()

Category = Model.get('product.category')
category = Category(name='Goods and services (no taxes)')
category.accounting = True
category.account_revenue = accounts['revenue']
category.account_expense = accounts['expense']
category.save()

Uom = Model.get('product.uom')
unit, = Uom.find([('name', '=', 'Unit')])
Template = Model.get('product.template')


def product(code, name, price, kind='goods'):
    template = Template(
        name=name, code=code, default_uom=unit, type=kind, salable=True,
        list_price=Decimal(price), account_category=category)
    template.save()
    return template.products[0]


mug = product('MUG-01', 'Mug', '12.50')
tee = product('TEE-02', 'T-shirt', '19.90')
product('SOCK-03', 'Socks', '4.00')
for code, name in [('SHIP', 'Shipping'), ('VAT', 'VAT charged by the store'),
        ('DISC', 'Discount'), ('REFUND', 'Refund')]:
    product(code, name, '0', kind='service')

Location = Model.get('stock.location')
storage, = Location.find([('code', '=', 'STO')])
Inventory = Model.get('stock.inventory')
inventory = Inventory(location=storage)
for p, qty in [(mug, 20), (tee, 5)]:
    line = inventory.lines.new(product=p)
    line.quantity = qty
inventory.click('confirm')
assert inventory.state == 'done', inventory.state

Party = Model.get('party.party')
Country = Model.get('country.country')
de = Country(name='Germany', code='DE')
de.save()
customer = Party(name='Ada Lovelace')
customer.contact_mechanisms.new(type='email', value='ada@example.com')
customer.contact_mechanisms.new(type='phone', value='+49301234567')
address, = customer.addresses
address.street = 'Hauptstr. 1'
address.postal_code = '10115'
address.city = 'Berlin'
address.country = de
customer.save()
print('tryton_seed.py: seeded', database)
