"""Purchase references and order numbers come from the INSERT itself (a column default returned by the INSERT),
not from a separate query for each sequence: PREFIX-<year in UTC, the deployment's TIME_ZONE>-<sequence value,
zero-padded to 6 digits, longer when it outgrows them>."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0002_numbers_and_status_guard'),
    ]

    operations = [
        migrations.RunSQL(
            sql="""
CREATE OR REPLACE FUNCTION orders_next_number(prefix text, sequence_name text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT prefix || '-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
           || CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END
      FROM (SELECT nextval(sequence_name::regclass) AS n) AS next_value
$$;
""",
            reverse_sql="DROP FUNCTION IF EXISTS orders_next_number(text, text);",
        ),
        migrations.AlterField(
            model_name='order',
            name='number',
            field=models.CharField(db_default=models.Func(models.Value('PO'), models.Value('orders_order_number_seq'), function='orders_next_number', output_field=models.CharField()), max_length=20, unique=True, verbose_name='order number'),
        ),
        migrations.AlterField(
            model_name='purchase',
            name='reference',
            field=models.CharField(db_default=models.Func(models.Value('PU'), models.Value('orders_purchase_reference_seq'), function='orders_next_number', output_field=models.CharField()), max_length=20, unique=True, verbose_name='purchase reference'),
        ),
    ]
